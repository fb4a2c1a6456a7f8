// Guards: the objects the node hands the application share nothing mutable with the engine. The
// entry propose() resolved with (and committed() yields) copied its command bytes but kept the
// very dedupKey object of the log entry, which the leader's log, its dedup cache and in-memory
// storage hold and judge exactly-once and client identity by; JavaScript does not enforce
// `readonly`, so an application rewriting the key rewrote the stored entry. A review of the
// session's fixes found it (2026-12-07, third session). The same review pointed at the
// configuration changeMembership resolved with and `membership` announced: the core's own object,
// now a frozen copy.
import { describe, expect, it } from 'vitest';
import type { ClusterConfig, Committed, NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { createRaftNode } from './create-raft-node.ts';
import type { RaftNode } from './node-options.ts';
import { handTransport, ids } from './hand-driven-node.test-support.ts';

async function soloLeader(storage: InMemoryRaftStorage): Promise<{ node: RaftNode; clock: VirtualClock }> {
  const clock = new VirtualClock();
  const node = await createRaftNode({ id: ids.a, clusterConfig: { voters: [ids.a] }, transport: handTransport(ids.a, []), storage, raftConfig: { clock } });
  expect(await clock.runUntil(() => node.role.value === 'leader', 5_000)).toBe(true);
  return { node, clock };
}

const storedKey = (storage: InMemoryRaftStorage, index: number) => storage.peekLog().entries.find((entry) => entry.index === index)?.dedupKey;

describe('the entries the node hands out', () => {
  it('propose(): shares no mutable object with the log or storage, its dedupKey included', async () => {
    const storage = new InMemoryRaftStorage();
    const { node } = await soloLeader(storage);
    const entry = await node.propose(new Uint8Array([1]), { requestId: 5 });
    expect(entry.dedupKey?.requestId).toBe(5);
    (entry.dedupKey as { requestId: number }).requestId = 999;
    expect(storedKey(storage, entry.index)?.requestId).toBe(5);
    await node.close();
  });

  it('committed(): each yields a dedupKey of its own', async () => {
    const storage = new InMemoryRaftStorage();
    const { node } = await soloLeader(storage);
    const entry = await node.propose(new Uint8Array([1]), { requestId: 6 });
    let yielded: Committed | null = null;
    for await (const item of node.committedFrom(1)) {
      yielded = item;
      if (item.type === 'entry') break;
    }
    expect(yielded?.type === 'entry' ? yielded.entry.index : null).toBe(entry.index);
    if (yielded?.type === 'entry') (yielded.entry.dedupKey as { requestId: number }).requestId = 999;
    expect(storedKey(storage, entry.index)?.requestId).toBe(6);
    await node.close();
  });
});

describe('the configuration the node hands out', () => {
  it('changeMembership() and membership give a frozen copy, never the engine own object', async () => {
    const storage = new InMemoryRaftStorage();
    const { node, clock } = await soloLeader(storage);
    const changing = node.changeMembership({ voters: [ids.a], learners: [ids.b] });
    await clock.runUntil(() => node.membership.value.learners !== undefined, 5_000);
    let resolved: ClusterConfig | null = null;
    void changing.then((config) => (resolved = config));
    await clock.runUntil(() => resolved !== null, 5_000);
    expect(resolved).toEqual({ voters: [ids.a], learners: [ids.b] });
    for (const config of [resolved as unknown as ClusterConfig, node.membership.value]) {
      expect(Object.isFrozen(config) && Object.isFrozen(config.voters) && Object.isFrozen(config.learners)).toBe(true);
      expect(() => (config.voters as NodeId[]).push(ids.c)).toThrow(TypeError);
    }
    // And the engine still holds what it decided: a configuration with b as a learner.
    expect(node.membership.value).toEqual({ voters: [ids.a], learners: [ids.b] });
    await node.close();
  });
});
