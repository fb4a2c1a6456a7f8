// A newcomer is admitted as a learner only once the leader has heard its hellos say whether it
// runs a node. Reachable is not enough: the connection is ready on both sides at once, and a
// leader that admitted the newcomer before its first hello arrived listed it as a learner while
// it was still discovering on empty storage, which took the listing for its id's old membership
// and gave the id up (a flaky e2e test, rooms.spec.ts "engines in workers", 2026-12-07: a page
// closed its transport 180 ms after connecting and came back under a fresh id).
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { arrive, depart, roomLedByA, type RoomTimings } from './room-simulation-peers.test-support.ts';

const timings: RoomTimings = { unreachableAfterMs: 1_500, discoveryMs: 400, gossipIntervalMs: 300, coordinatorIntervalMs: 100, targetVoters: 3 };

async function newcomerWhoseHellosAreLate(seed: number, lateForMs: number) {
  const { clock, network, environment, registry, events, a } = await roomLedByA(seed, timings);
  // b's frames to a are late: a reaches b (and b reaches a) before a hears anything from b.
  network.blockOneWay(nodeId('b'), nodeId('a'));
  const b = registry.peer('b');
  arrive(environment, b);
  await clock.advance(lateForMs);
  network.heal();
  expect(await clock.runUntil(() => b.room !== null && (a.room!.node.membership.value.learners ?? []).length + a.room!.node.membership.value.voters.length === 2, { timeoutMs: 8_000 })).toBe(true);
  return { clock, environment, registry, events, a, b };
}

describe('a newcomer whose first hellos reach the leader late', () => {
  for (const lateForMs of [150, 250, 1_000]) {
    it(`keeps its id and joins under it (hellos ${lateForMs} ms late)`, async () => {
      const test = await newcomerWhoseHellosAreLate(7301 + lateForMs, lateForMs);
      expect(test.b.room!.id).toBe('b');
      expect(test.events.filter(({ event }) => event.type === 'storageDiscarded').map(({ peer }) => peer)).toEqual([]);
      const config = test.a.room!.node.membership.value;
      expect([...config.voters, ...(config.learners ?? [])].sort()).toEqual(['a', 'b']);
      for (const peer of test.registry.all()) depart(test.environment, peer);
      await test.clock.advance(100);
    });
  }
});
