// SPEC "Log replication": the leader keeps a bounded number of messages in flight per follower,
// and (RaftConfig.maxPendingProposals) refuses new proposals while too many are uncommitted.
// And SPEC "Snapshots": how a leader streams InstallSnapshot. Black-box: a follower on voter d's
// id is played by the test, which reads the frames it gets.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import type { AppendEntries } from '../core/messages.ts';
import { nodeId, ProposalRejectedError } from '../index.ts';
import { startContractCluster } from './contract-cluster.test-support.ts';

const bytes = (value: number): Uint8Array => new Uint8Array([value]);

describe('SPEC Log replication: bounds', () => {
  it('a follower that stops answering gets at most maxInflightMessages AppendEntries carrying entries, then heartbeats only, until an election timeout has passed', async () => {
    const d = nodeId('d');
    const maxInflightMessages = 3;
    const cluster = await startContractCluster({ names: ['a', 'b'], voters: ['a', 'b', 'd'], raftConfig: { maxInflightMessages }, seed: 3 });
    const played = cluster.network.transport(d);
    const leader = await cluster.waitForLeader();
    const received: AppendEntries[] = [];
    let answering = true;
    played.incoming.subscribe((envelope) => {
      const decoded = decodeMessage(envelope.bytes);
      if (!decoded.ok || decoded.value.type !== 'appendEntries') return;
      const append = decoded.value;
      received.push(append);
      if (answering) played.send(envelope.from, encodeMessage({ type: 'appendEntriesResponse', term: append.term, success: true, matchIndex: append.prevLogIndex + append.entries.length, conflictIndex: 0, conflictTerm: 0, readRound: append.readRound }));
    });
    await cluster.clock.advance(200); // d's match point is found: the leader replicates to it
    answering = false;
    received.length = 0;
    for (let value = 0; value < 10; value += 1) await cluster.settle(leader.propose(bytes(value)));
    await cluster.clock.advance(100);
    expect(received.filter((append) => append.entries.length > 0)).toHaveLength(maxInflightMessages);
    expect(received.filter((append) => append.entries.length === 0).length).toBeGreaterThan(0);
    // The others still commit everything meanwhile.
    expect(cluster.node('b').commitIndex.value).toBe(leader.commitIndex.value);
    await cluster.close();
  });

  it('a leader with maxPendingProposals uncommitted refuses more with ProposalRejectedError, and takes proposals again once they commit', async () => {
    const cluster = await startContractCluster({ seed: 4, raftConfig: { maxPendingProposals: 4 } });
    const leader = await cluster.waitForLeader();
    const others = [...cluster.nodes.values()].filter((node) => node !== leader);
    for (const node of others) cluster.network.isolate(node.id);
    const outcomes = Array.from({ length: 6 }, (_, value) =>
      leader.propose(bytes(value)).then(
        (entry) => entry.command[0],
        (error: unknown) => error,
      ),
    );
    await cluster.clock.advance(10);
    cluster.network.heal();
    const settled = await cluster.settle(Promise.all(outcomes));
    expect(settled.filter((outcome) => outcome instanceof ProposalRejectedError)).toHaveLength(2);
    expect(settled.filter((outcome) => typeof outcome === 'number')).toEqual([0, 1, 2, 3]);
    expect(leader.role.value).toBe('leader');
    await expect(cluster.settle(leader.propose(bytes(9)))).resolves.toMatchObject({ command: bytes(9) });
    await cluster.close();
  });
});

describe('SPEC Snapshots: sending InstallSnapshot', () => {
  it('a follower below the leader\u2019s floor gets the published state in chunks of at most snapshotChunkCeiling bytes at explicit, contiguous offsets, with the meta raft stored', async () => {
    const d = nodeId('d');
    const snapshotChunkCeiling = 64;
    const cluster = await startContractCluster({ names: ['a', 'b'], voters: ['a', 'b', 'd'], raftConfig: { snapshotChunkCeiling }, seed: 5 });
    const leader = await cluster.waitForLeader();
    for (let value = 0; value < 3; value += 1) await cluster.settle(leader.propose(bytes(value)));
    await cluster.clock.advance(100);
    const state = Uint8Array.from({ length: 300 }, (_, position) => position % 251);
    const through = leader.commitIndex.value;
    leader.publishSnapshot({ throughIndex: through, state });
    await cluster.clock.advance(100);
    const stored = await cluster.storage(leader.id).loadSnapshot();
    expect(stored?.meta.lastIncludedIndex).toBe(through);
    // d comes up with an empty log and answers as an honest follower would.
    const played = cluster.network.transport(d);
    const chunks: Array<{ offset: number; length: number; data: Uint8Array; totalBytes: number; meta: unknown }> = [];
    played.incoming.subscribe((envelope) => {
      const decoded = decodeMessage(envelope.bytes);
      if (!decoded.ok) return;
      const message = decoded.value;
      if (message.type === 'appendEntries') {
        const matches = message.prevLogIndex === 0;
        played.send(envelope.from, encodeMessage({ type: 'appendEntriesResponse', term: message.term, success: matches, matchIndex: matches ? message.entries.length : 0, conflictIndex: 1, conflictTerm: 0, readRound: message.readRound }));
      } else if (message.type === 'installSnapshot') {
        chunks.push({ offset: message.offset, length: message.data.length, data: message.data.slice(), totalBytes: message.totalBytes, meta: message.meta });
        const received = chunks.reduce((total, chunk) => Math.max(total, chunk.offset + chunk.length), 0);
        played.send(envelope.from, encodeMessage({ type: 'installSnapshotResponse', term: message.term, lastIncludedIndex: message.meta.lastIncludedIndex, nextOffset: received, installed: received === message.totalBytes }));
      }
    });
    await cluster.clock.runUntil(() => chunks.some((chunk) => chunk.offset + chunk.length === state.length), 5_000);
    expect(chunks.every((chunk) => chunk.length <= snapshotChunkCeiling && chunk.totalBytes === state.length)).toBe(true);
    expect(chunks.every((chunk) => JSON.stringify(chunk.meta) === JSON.stringify(stored!.meta))).toBe(true);
    const distinct = [...new Map(chunks.map((chunk) => [chunk.offset, chunk])).values()].sort((left, right) => left.offset - right.offset);
    expect(distinct.map((chunk) => chunk.offset)).toEqual(distinct.map((_, position) => position * snapshotChunkCeiling));
    const reassembled = new Uint8Array(state.length);
    for (const chunk of distinct) reassembled.set(chunk.data, chunk.offset);
    expect(reassembled).toEqual(state);
    await cluster.close();
  });
});
