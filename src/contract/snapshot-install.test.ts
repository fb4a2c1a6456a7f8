// SPEC "Snapshots and compaction", the receiving side, black-box: a leader (forged on voter d's
// id, so the test chooses every chunk) streams InstallSnapshot to a running follower built from
// the public entries; what it installs is read off its committed stream, its watchables, its
// storage and its answers on the wire.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import type { InstallSnapshotResponse, RaftMessage } from '../core/messages.ts';
import { nodeId, type Committed, type LogEntry, type RaftNode, type RaftTransport, type SnapshotMeta } from '../index.ts';
import { startContractCluster, type ContractCluster } from './contract-cluster.test-support.ts';

const d = nodeId('d');
const voterIds = ['a', 'b', 'c', 'd'].map((name) => nodeId(name));

interface Follower {
  readonly cluster: ContractCluster;
  readonly node: RaftNode;
  readonly name: string;
  readonly leader: RaftTransport;
  readonly answers: InstallSnapshotResponse[];
  /** The term d leads, the follower's log end, and a send to the follower. */
  readonly term: number;
  readonly last: LogEntry;
  send(message: RaftMessage): Promise<void>;
}

/** A follower cut off from its cluster, following d as the leader of a new term. */
async function followerOfForgedLeader(seed: number, snapshotTotalCeiling?: number): Promise<Follower> {
  const cluster = await startContractCluster({ seed, names: ['a', 'b', 'c'], voters: ['a', 'b', 'c', 'd'], ...(snapshotTotalCeiling === undefined ? {} : { raftConfig: { snapshotTotalCeiling } }) });
  const leader = await cluster.waitForLeader();
  await cluster.settle(leader.propose(new Uint8Array([1])));
  const name = [...cluster.nodes.keys()].find((candidate) => candidate !== leader.id)!;
  const node = cluster.node(name);
  await cluster.clock.runUntil(() => node.commitIndex.value === leader.commitIndex.value, 1_000);
  // Cut off from a, b and c; d's endpoint is created afterwards, so d still reaches it.
  cluster.network.isolate(node.id);
  const forged = cluster.network.transport(d);
  const answers: InstallSnapshotResponse[] = [];
  forged.incoming.subscribe((envelope) => {
    const decoded = decodeMessage(envelope.bytes);
    if (decoded.ok && decoded.value.type === 'installSnapshotResponse') answers.push(decoded.value);
  });
  const last = (await cluster.storage(name).entries()).at(-1)!;
  const term = node.term.value + 1;
  const send = async (message: RaftMessage): Promise<void> => {
    forged.send(node.id, encodeMessage(message));
    await cluster.clock.advance(1);
  };
  await send({ type: 'appendEntries', term, prevLogIndex: last.index, prevLogTerm: last.term, entries: [], leaderCommit: last.index, readRound: 0 });
  expect(node.leader.value).toBe(d);
  return { cluster, node, name, leader: forged, answers, term, last, send };
}

const chunk = (term: number, meta: SnapshotMeta, state: Uint8Array, offset: number, length: number): RaftMessage => ({ type: 'installSnapshot', term, meta, totalBytes: state.length, offset, data: state.slice(offset, offset + length) });

describe('SPEC Snapshots: receiving InstallSnapshot', () => {
  it('takes only the next offset (reorders and duplicates are re-acknowledged), installs atomically, and the committed stream yields install, then the log after it', async () => {
    const follower = await followerOfForgedLeader(61);
    const { cluster, node, term, last } = follower;
    const tail = node.committed()[Symbol.asyncIterator]();
    const meta: SnapshotMeta = { lastIncludedIndex: last.index + 5, lastIncludedTerm: term, config: { old: null, new: { voters: voterIds } } };
    const state = new Uint8Array([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    await follower.send(chunk(term, meta, state, 4, 4)); // ahead of the next offset
    await follower.send(chunk(term, meta, state, 0, 4));
    await follower.send(chunk(term, meta, state, 0, 4)); // a duplicate
    await follower.send(chunk(term, meta, state, 4, 4));
    expect(node.compactionFloor.value).toBe(0);
    await follower.send(chunk(term, meta, state, 8, 2));
    await cluster.clock.advance(10);
    expect(follower.answers.map((answer) => [answer.nextOffset, answer.installed])).toEqual([
      [0, false],
      [4, false],
      [4, false],
      [8, false],
      [10, true],
    ]);
    expect(follower.answers.every((answer) => answer.lastIncludedIndex === meta.lastIncludedIndex && answer.term === term)).toBe(true);
    expect(node.compactionFloor.value).toBe(meta.lastIncludedIndex);
    expect(node.commitIndex.value).toBe(meta.lastIncludedIndex);
    expect(node.membership.value).toEqual({ voters: voterIds });
    expect(await cluster.storage(follower.name).loadSnapshot()).toEqual({ meta, state });
    expect(await cluster.storage(follower.name).entries()).toEqual([]);
    expect((await cluster.settle(tail.next())).value).toEqual({ type: 'install', snapshot: { throughIndex: meta.lastIncludedIndex, state } } satisfies Committed);
    // The log goes on after the snapshot.
    const next: LogEntry = { index: meta.lastIncludedIndex + 1, term, command: new Uint8Array([42]), isNoOp: false };
    await follower.send({ type: 'appendEntries', term, prevLogIndex: meta.lastIncludedIndex, prevLogTerm: term, entries: [next], leaderCommit: next.index, readRound: 0 });
    expect((await cluster.settle(tail.next())).value).toEqual({ type: 'entry', entry: next } satisfies Committed);
    // A replay from the start begins with the same install.
    const replay = node.committedFrom(1)[Symbol.asyncIterator]();
    expect((await cluster.settle(replay.next())).value).toMatchObject({ type: 'install', snapshot: { throughIndex: meta.lastIncludedIndex } });
    await cluster.close();
  });

  it('a snapshot larger than snapshotTotalCeiling is refused with snapshotRejectedSizeCeiling, and nothing is installed', async () => {
    const follower = await followerOfForgedLeader(62, 1_024);
    const { cluster, node, term, last } = follower;
    const meta: SnapshotMeta = { lastIncludedIndex: last.index + 5, lastIncludedTerm: term };
    await follower.send({ type: 'installSnapshot', term, meta, totalBytes: 1_025, offset: 0, data: new Uint8Array(512) });
    expect(cluster.metrics.filter((metric) => metric.type === 'snapshotRejectedSizeCeiling')).toEqual([{ type: 'snapshotRejectedSizeCeiling', from: d, totalBytes: 1_025, reporter: follower.name }]);
    // At the ceiling it is taken.
    const state = new Uint8Array(1_024).fill(7);
    await follower.send(chunk(term, meta, state, 0, 1_024));
    expect(node.compactionFloor.value).toBe(meta.lastIncludedIndex);
    await cluster.close();
  });

  it('a snapshot whose last term is above the sender\u2019s term is refused, not installed', async () => {
    const follower = await followerOfForgedLeader(63);
    const { cluster, node, term, last } = follower;
    const meta: SnapshotMeta = { lastIncludedIndex: last.index + 5, lastIncludedTerm: term + 1 };
    await follower.send(chunk(term, meta, new Uint8Array([1, 2]), 0, 2));
    expect(cluster.trace.filter((event) => event.type === 'frameRefused' && event.node === follower.name && event.from === d)).toHaveLength(1);
    expect(node.compactionFloor.value).toBe(0);
    expect(await cluster.storage(follower.name).loadSnapshot()).toBeNull();
    await cluster.close();
  });

  it('a newer snapshot restarts reassembly: the older one\u2019s chunks are not mixed into it', async () => {
    const follower = await followerOfForgedLeader(64);
    const { cluster, node, term, last } = follower;
    const older: SnapshotMeta = { lastIncludedIndex: last.index + 3, lastIncludedTerm: term };
    const newer: SnapshotMeta = { lastIncludedIndex: last.index + 6, lastIncludedTerm: term };
    const oldState = new Uint8Array([1, 1, 1, 1]);
    const newState = new Uint8Array([2, 2, 2, 2]);
    await follower.send(chunk(term, older, oldState, 0, 2));
    await follower.send(chunk(term, newer, newState, 2, 2)); // reassembly restarts at 0 for the newer one
    await follower.send(chunk(term, newer, newState, 0, 2));
    await follower.send(chunk(term, newer, newState, 2, 2));
    expect(node.compactionFloor.value).toBe(newer.lastIncludedIndex);
    expect(await cluster.storage(follower.name).loadSnapshot()).toEqual({ meta: newer, state: newState });
    await cluster.close();
  });
});

