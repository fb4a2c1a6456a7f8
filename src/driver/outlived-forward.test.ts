// Through createRaftNode, on a virtual clock: a follower's proposal that the old leader appended
// beyond the new leader's log completes in an idle cluster once the new leader's no-op commits,
// instead of waiting until its caller gives up (the core-level cases: src/core/outlived-proposal.test.ts).
import { describe, expect, it } from 'vitest';
import type { RaftMessage } from '../core/messages.ts';
import { nodeId, type LogEntry, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createSimulatedNetwork } from '../testing/simulated-network.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { createRaftNode } from './create-raft-node.ts';
import { rewritingTransport } from './rewriting-transport.test-support.ts';
import type { RaftNode } from './node-options.ts';

type DropRule = (from: NodeId, to: NodeId, message: RaftMessage) => boolean;

/** Drops the frames the current rule names (one kind of frame on a link, unlike a partition). */
function filtering(inner: RaftTransport, rule: () => DropRule): RaftTransport {
  return rewritingTransport(inner, (to, message) => (rule()(inner.selfId, to, message) ? null : message));
}

describe('a forwarded proposal outlived by a leader change, through createRaftNode', () => {
  it('completes in an idle cluster once the new leader commits its no-op', async () => {
    const clock = new VirtualClock(0);
    const network = createSimulatedNetwork(clock, seededRandom(7));
    const ids = ['a', 'b', 'c'].map((name) => nodeId(name));
    let drop: DropRule = () => false;
    const nodes: RaftNode[] = await Promise.all(
      ids.map((id, position) =>
        createRaftNode({ id, clusterConfig: { voters: ids }, transport: filtering(network.transport(id), () => drop), storage: new InMemoryRaftStorage(), raftConfig: { clock, random: seededRandom(100 + position) } }),
      ),
    );
    expect(await clock.runUntil(() => nodes.some((node) => node.role.value === 'leader'), { timeoutMs: 5_000 })).toBe(true);
    const oldLeader = nodes.find((node) => node.role.value === 'leader')!;
    const [proposer, third] = nodes.filter((node) => node !== oldLeader) as [RaftNode, RaftNode];
    await clock.runUntil(() => nodes.every((node) => node.commitIndex.value === oldLeader.commitIndex.value && node.leader.value === oldLeader.id), { timeoutMs: 2_000 });
    const oldTerm = oldLeader.term.value;
    // From now on the old leader's replication is lost: what it appends stays in its log alone.
    // Only the third node may campaign (a proposer that wins appends its own proposals anew).
    drop = (from, _to, message) => (from === oldLeader.id && message.type === 'appendEntries') || (from !== third.id && message.type === 'requestVote');
    const lost = [oldLeader.propose(new Uint8Array([1])), oldLeader.propose(new Uint8Array([2]))].map((call) => call.then(() => 'committed', () => 'failed'));
    let outcome: LogEntry | Error | null = null;
    const controller = new AbortController();
    proposer.propose(new Uint8Array([3]), { signal: controller.signal }).then(
      (entry) => (outcome = entry),
      (error: unknown) => (outcome = error as Error),
    );
    // The two others elect a leader of a later term and commit its no-op; nothing else is proposed.
    await clock.runUntil(() => outcome !== null, { timeoutMs: 10_000 });
    controller.abort(new Error('still waiting after 10 s'));
    await clock.advance(1);
    expect(outcome).not.toBeInstanceOf(Error);
    const entry = outcome as unknown as LogEntry;
    expect(entry.term).toBeGreaterThan(oldTerm);
    expect(third.role.value).toBe('leader');
    expect(entry.command).toEqual(new Uint8Array([3]));
    expect(await Promise.all(lost)).toEqual(['failed', 'failed']);
    await Promise.all(nodes.map((node) => node.close()));
  });
});
