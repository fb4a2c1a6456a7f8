// SPEC "Reads" across incarnations, from outside: a follower's readIndex answered by the leader
// while the follower restarts must not answer a read of the restarted node. Restarted with the
// same seeded random source (API.md's deterministic tests restart nodes so), the node numbered its
// new requests as before, and took the late answer for its new read: a stale index, below a
// write acknowledged before the read began (a black-box linearizability review's reproduction).
import { describe, expect, it } from 'vitest';
import { createRaftNode, InMemoryRaftStorage, nodeId, type RaftNode } from '../index.ts';
import { createSimulatedNetwork, seededRandom, VirtualClock } from '../testing/index.ts';

const ids = ['a', 'b', 'c'].map((name) => nodeId(name));
const timing = { electionTimeoutMin: 1_500, electionTimeoutMax: 3_000, heartbeatInterval: 50 };
const delay = (ms: number) => ({ minDelayMs: ms, maxDelayMs: ms, dropProbability: 0, duplicateProbability: 0 });

describe('a read of a restarted follower', () => {
  for (const seed of [1, 2, 3]) {
    it(`never takes an answer meant for a read of its previous incarnation (same random source at restart, seed ${seed})`, async () => {
      const clock = new VirtualClock();
      const network = createSimulatedNetwork(clock, seededRandom(seed));
      const storages = new Map(ids.map((id) => [id, new InMemoryRaftStorage()]));
      const transports = new Map(ids.map((id) => [id, network.transport(id)]));
      const start = (id: (typeof ids)[number]): Promise<RaftNode> =>
        createRaftNode({ id, clusterConfig: { voters: ids }, transport: transports.get(id)!, storage: storages.get(id)!, raftConfig: { ...timing, clock, random: seededRandom(seed * 10 + ids.indexOf(id)) } });
      const nodes = new Map<string, RaftNode>();
      for (const id of ids) nodes.set(id, await start(id));
      await clock.runUntil(() => [...nodes.values()].some((node) => node.role.value === 'leader'), 10_000);
      const leader = [...nodes.values()].find((node) => node.role.value === 'leader')!;
      const follower = [...nodes.values()].find((node) => node !== leader)!;
      for (let write = 1; write <= 5; write++) {
        const written = leader.propose(new TextEncoder().encode(`x=${write}`));
        await clock.runUntil(() => leader.commitIndex.value >= write + 1, 5_000);
        await written;
      }
      // A read whose answer is still in flight when the follower goes down.
      network.conditions = delay(600);
      follower.readIndex().catch(() => undefined);
      await clock.advance(3 * 600 + 5);
      network.conditions = delay(1);
      network.setDown(follower.id, true);
      void follower.close();
      await clock.advance(3);
      const restarted = await start(follower.id);
      network.setDown(follower.id, false);
      // The restarted node cannot reach the leader, so none of its own requests can be answered.
      network.blockOneWay(follower.id, leader.id);
      const acknowledged = leader.propose(new TextEncoder().encode('x=6'));
      await clock.runUntil(() => leader.commitIndex.value >= 7, 5_000);
      const written = await acknowledged;
      await clock.runUntil(() => restarted.leader.value !== null, 3_000);
      let answer: number | null = null;
      restarted.readIndex().then((index) => (answer = index), () => undefined);
      await clock.advance(4 * 600);
      // Pending is right (its request cannot reach the leader); an answer must cover the write.
      if (answer !== null) expect(answer).toBeGreaterThanOrEqual(written.index);
      expect(answer).toBeNull();
      for (const node of [...nodes.values(), restarted]) void node.close();
      await clock.advance(100);
    });
  }
});
