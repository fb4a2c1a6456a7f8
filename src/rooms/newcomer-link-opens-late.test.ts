// A newcomer whose side of the link opens seconds after the leader's keeps its id. Modelled as
// WebRTC does it: the leader's side is ready at t0 and sends its hellos at once, which the link
// holds until the newcomer's side opens at t0 + D and then delivers in order, all together; the
// newcomer's side sends nothing before it is ready. A leader that admitted the silent newcomer
// after a grace (the first fix of 2026-12-07) listed it as a learner in its next hellos, and the
// newcomer, still discovering on empty storage, read the latest (the one listing it) as its id's
// old membership (identityReused) and gave up its id. Found by a review of that fix; a leader now
// admits only a peer it has heard say it runs a node.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { reliableNetwork } from '../testing/simulated-network.ts';
import { arrive, depart, roomLedByA, type RoomTimings } from './room-simulation-peers.test-support.ts';

const timings: RoomTimings = { unreachableAfterMs: 1_500, discoveryMs: 400, gossipIntervalMs: 300, coordinatorIntervalMs: 100, targetVoters: 3 };

describe('a newcomer whose side of the link opens late', () => {
  for (const lateForMs of [400, 1_000, 1_500]) {
    it(`keeps its id and is admitted under it (its side ready ${lateForMs} ms after the leader's)`, async () => {
      const seed = 7_401 + lateForMs;
      const { clock, network, environment, registry, events, a } = await roomLedByA(seed, timings);
      // Both sides reach each other, but the link delivers nothing yet: it holds every frame.
      const held: { from: NodeId; to: NodeId; bytes: Uint8Array }[] = [];
      network.onSend = (from, to, bytes) => {
        held.push({ from, to, bytes: bytes.slice() });
      };
      network.conditions = { ...reliableNetwork, dropProbability: 1 }; // held by the link (a is alone: nothing else to lose)
      const b = registry.peer('b');
      arrive(environment, b);
      await clock.advance(lateForMs);
      // The link opens: it delivers what it held, in order, and works both ways from now on.
      network.onSend = null;
      network.conditions = reliableNetwork;
      network.heal();
      for (const frame of held) network.inject(frame.from, frame.to, frame.bytes);
      await clock.runUntil(() => b.room !== null, { timeoutMs: 8_000 });
      await clock.advance(1_000);
      const discarded = events.filter(({ event }) => event.type === 'storageDiscarded').map(({ peer }) => peer);
      const config = a.room?.node.membership.value;
      const bRoomId = b.room?.id;

      for (const peer of registry.all()) depart(environment, peer);
      await clock.advance(100);
      expect(discarded).toEqual([]);
      expect(bRoomId).toBe('b');
      expect([...(config?.voters ?? []), ...(config?.learners ?? [])].sort()).toEqual(['a', 'b']);
    });
  }
});
