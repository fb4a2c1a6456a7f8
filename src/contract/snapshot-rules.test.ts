// SPEC "Snapshots and compaction (§7)", black-box, for the rules the other contract files leave
// open: publishSnapshot's checks and trailing tail, a leader change restarting reassembly, meta
// validation, and the install order (storage, then `install`, then the log after it).
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import type { InstallSnapshotResponse, RaftMessage } from '../core/messages.ts';
import {
  createRaftNode,
  InMemoryRaftStorage,
  nodeId,
  VirtualClock,
  type Committed,
  type LogEntry,
  type RaftMetric,
  type RaftNode,
  type RaftTraceEvent,
  type SnapshotMeta,
} from '../index.ts';
import { createPartitionableNetwork, startContractCluster } from './contract-cluster.test-support.ts';

const bytes = (value: number, length = 1): Uint8Array => new Uint8Array(length).fill(value);
const f = nodeId('f');
const d = nodeId('d');
const e = nodeId('e');

/** A storage whose saveSnapshot waits until the test opens the gate. */
class GatedStorage extends InMemoryRaftStorage {
  saving = 0;
  private waiting: Array<() => void> = [];
  private open = true;
  close(): void {
    this.open = false;
  }
  release(): void {
    this.open = true;
    for (const resume of this.waiting.splice(0)) resume();
  }
  override async saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    this.saving += 1;
    if (!this.open) await new Promise<void>((resume) => this.waiting.push(resume));
    return super.saveSnapshot(meta, state);
  }
}

interface Forged {
  readonly node: RaftNode;
  readonly clock: VirtualClock;
  readonly storage: GatedStorage;
  readonly answers: Array<InstallSnapshotResponse & { readonly to: string }>;
  readonly metrics: RaftMetric[];
  readonly trace: RaftTraceEvent[];
  send(from: 'd' | 'e', message: RaftMessage): Promise<void>;
}

/** Follower f of a cluster {f, d, e} whose other two voters are the test's hands on the wire. */
async function forgedCluster(): Promise<Forged> {
  const clock = new VirtualClock();
  const network = createPartitionableNetwork(() => clock.now());
  const storage = new GatedStorage();
  const metrics: RaftMetric[] = [];
  const trace: RaftTraceEvent[] = [];
  const node = await createRaftNode({ id: f, clusterConfig: { voters: [f, d, e] }, transport: network.transport(f), storage, raftConfig: { clock }, onMetric: (metric) => metrics.push(metric) });
  node.trace.subscribe((event) => trace.push(event));
  const answers: Array<InstallSnapshotResponse & { readonly to: string }> = [];
  const hands = { d: network.transport(d), e: network.transport(e) };
  for (const [name, transport] of Object.entries(hands)) {
    transport.incoming.subscribe((envelope) => {
      const decoded = decodeMessage(envelope.bytes);
      if (decoded.ok && decoded.value.type === 'installSnapshotResponse') answers.push({ ...decoded.value, to: name });
    });
  }
  return {
    node,
    clock,
    storage,
    answers,
    metrics,
    trace,
    async send(from, message) {
      hands[from].send(f, encodeMessage(message));
      await clock.advance(1);
    },
  };
}

const heartbeat = (term: number): RaftMessage => ({ type: 'appendEntries', term, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 });
const chunk = (term: number, meta: SnapshotMeta, state: Uint8Array, offset: number, length: number): RaftMessage => ({ type: 'installSnapshot', term, meta, totalBytes: state.length, offset, data: state.slice(offset, offset + length) });

describe('SPEC Snapshots: publishSnapshot', () => {
  it('keeps snapshotTrailingEntries entries behind the snapshot, stores the snapshot at its own index, and a lagging follower still catches up', async () => {
    const cluster = await startContractCluster({ seed: 41, raftConfig: { snapshotTrailingEntries: 2 } });
    const leader = await cluster.waitForLeader();
    const lagging = [...cluster.nodes.keys()].find((name) => name !== leader.id)!;
    const entries: LogEntry[] = [];
    for (let value = 0; value < 5; value += 1) entries.push(await cluster.settle(leader.propose(bytes(value))));
    const through = entries.at(-1)!.index;
    leader.publishSnapshot({ throughIndex: through, state: bytes(9) });
    await cluster.clock.advance(50);
    expect(leader.compactionFloor.value).toBe(through - 2);
    expect((await cluster.storage(leader.id).loadSnapshot())?.meta.lastIncludedIndex).toBe(through);
    const kept = (await cluster.storage(leader.id).entries()).map((entry) => entry.index);
    expect(kept).toEqual([through - 1, through]);
    // The trailing tail lets a follower two entries behind the snapshot catch up from the log.
    cluster.network.isolate(nodeId(lagging));
    const more = await cluster.settle(leader.propose(bytes(7)));
    cluster.network.heal();
    await cluster.clock.runUntil(() => cluster.node(lagging).commitIndex.value >= more.index, 5_000);
    await cluster.close();
  });

  it('refuses a throughIndex beyond the applied index or not a safe integer with a RangeError, and ignores one at or below the floor', async () => {
    const cluster = await startContractCluster({ seed: 42 });
    const leader = await cluster.waitForLeader();
    const entry = await cluster.settle(leader.propose(bytes(1)));
    await cluster.clock.advance(50);
    expect(() => leader.publishSnapshot({ throughIndex: entry.index + 5, state: bytes(1) })).toThrow(RangeError);
    expect(() => leader.publishSnapshot({ throughIndex: 1.5, state: bytes(1) })).toThrow(RangeError);
    expect(() => leader.publishSnapshot({ throughIndex: -1, state: bytes(1) })).toThrow(RangeError);
    expect(leader.compactionFloor.value).toBe(0);
    leader.publishSnapshot({ throughIndex: entry.index, state: bytes(2) });
    expect(leader.compactionFloor.value).toBe(entry.index);
    leader.publishSnapshot({ throughIndex: entry.index - 1, state: bytes(3) });
    await cluster.clock.advance(50);
    expect(leader.compactionFloor.value).toBe(entry.index);
    expect(await cluster.storage(leader.id).loadSnapshot()).toMatchObject({ meta: { lastIncludedIndex: entry.index }, state: bytes(2) });
    await cluster.close();
  });
});

describe('SPEC Snapshots: traffic bounded in flight', () => {
  it('a follower that acknowledges no chunk gets a few in flight, not the whole state, and heartbeats every interval meanwhile', async () => {
    const chunkBytes = 1_024;
    const stateBytes = 200 * chunkBytes;
    const cluster = await startContractCluster({ seed: 7, raftConfig: { snapshotChunkCeiling: chunkBytes, snapshotBytesPerSecond: Number.POSITIVE_INFINITY } });
    const leader = await cluster.waitForLeader();
    const silent = [...cluster.nodes.keys()].find((name) => name !== leader.id)!;
    cluster.network.isolate(nodeId(silent));
    const entry = await cluster.settle(leader.propose(bytes(1)));
    leader.publishSnapshot({ throughIndex: entry.index, state: bytes(3, stateBytes) });
    cluster.network.heal();
    cluster.network.block(nodeId(silent), leader.id);
    const since = cluster.network.sent.length;
    const from = cluster.clock.now();
    await cluster.clock.advance(3_000);
    const frames = cluster.network.sent.slice(since).filter((frame) => frame.from === leader.id && frame.to === silent);
    // Heartbeats alone are 60 frames in 3 s; the 200 chunks never all go out.
    expect(frames.length).toBeLessThan(60 + 200 / 4);
    const times = [from, ...frames.map((frame) => frame.at)];
    const gaps = times.slice(1).map((at, position) => at - times[position]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(50);
    expect(leader.role.value).toBe('leader');
    await cluster.close();
  });
});

describe('SPEC Snapshots: reassembly on the receiver', () => {
  it('a leader change restarts reassembly: the new leader\u2019s chunk at the old offset is not appended to the old leader\u2019s bytes', async () => {
    const forged = await forgedCluster();
    await forged.send('d', heartbeat(1));
    expect(forged.node.leader.value).toBe(d);
    const meta: SnapshotMeta = { lastIncludedIndex: 10, lastIncludedTerm: 1, config: { old: null, new: { voters: [f, d, e] } } };
    const oldState = bytes(1, 4);
    const newState = bytes(2, 4);
    await forged.send('d', chunk(1, meta, oldState, 0, 2));
    // A new leader, e in term 2, streams the same snapshot index with other bytes.
    const newMeta: SnapshotMeta = { ...meta, lastIncludedTerm: 1 };
    await forged.send('e', chunk(2, newMeta, newState, 2, 2));
    expect(forged.node.compactionFloor.value).toBe(0);
    expect(forged.answers.at(-1)).toMatchObject({ to: 'e', nextOffset: 0, installed: false });
    await forged.send('e', chunk(2, newMeta, newState, 0, 2));
    await forged.send('e', chunk(2, newMeta, newState, 2, 2));
    await forged.clock.advance(10);
    expect(forged.node.compactionFloor.value).toBe(10);
    expect((await forged.storage.loadSnapshot())?.state).toEqual(newState);
    // The old leader's late chunk is refused, not mixed in.
    await forged.send('d', chunk(1, meta, oldState, 2, 2));
    expect((await forged.storage.loadSnapshot())?.state).toEqual(newState);
    await forged.node.close();
  });

  it('refuses a meta whose index is out of range, and installs nothing', async () => {
    const forged = await forgedCluster();
    await forged.send('d', heartbeat(1));
    for (const lastIncludedIndex of [2 ** 52 + 1, 2 ** 53 - 1]) {
      await forged.send('d', chunk(1, { lastIncludedIndex, lastIncludedTerm: 1 }, bytes(1, 2), 0, 2));
    }
    await forged.clock.advance(10);
    expect(forged.node.compactionFloor.value).toBe(0);
    expect(await forged.storage.loadSnapshot()).toBeNull();
    expect(forged.answers.filter((answer) => answer.installed)).toEqual([]);
    await forged.node.close();
  });
});

describe('SPEC Snapshots: install order', () => {
  it('storage first: neither the install instruction nor the installed acknowledgement goes out until saveSnapshot has completed; then install, then the entries after it', async () => {
    const forged = await forgedCluster();
    await forged.send('d', heartbeat(1));
    const tail = forged.node.committed()[Symbol.asyncIterator]();
    const seen: Committed[] = [];
    const pump = (async () => {
      for (;;) {
        const next = await tail.next();
        if (next.done === true) return;
        seen.push(next.value);
      }
    })();
    const meta: SnapshotMeta = { lastIncludedIndex: 10, lastIncludedTerm: 1, config: { old: null, new: { voters: [f, d, e] } } };
    const state = bytes(5, 4);
    forged.storage.close();
    await forged.send('d', chunk(1, meta, state, 0, 4));
    const after: LogEntry = { index: 11, term: 1, command: bytes(42), isNoOp: false };
    await forged.send('d', { type: 'appendEntries', term: 1, prevLogIndex: 10, prevLogTerm: 1, entries: [after], leaderCommit: 11, readRound: 0 });
    await forged.clock.advance(200);
    expect(forged.storage.saving).toBe(1);
    expect(seen).toEqual([]);
    // (commitIndex and compactionFloor are this node's knowledge and may move first; SPEC orders
    // what the application and the leader are told.)
    expect(forged.answers.filter((answer) => answer.installed)).toEqual([]);
    forged.storage.release();
    await forged.clock.advance(10);
    // The append may have been dropped while the install was pending; a leader resends it.
    await forged.send('d', { type: 'appendEntries', term: 1, prevLogIndex: 10, prevLogTerm: 1, entries: [after], leaderCommit: 11, readRound: 0 });
    await forged.clock.advance(10);
    expect(seen).toEqual([
      { type: 'install', snapshot: { throughIndex: 10, state } },
      { type: 'entry', entry: after },
    ]);
    expect(forged.answers.filter((answer) => answer.installed)).toHaveLength(1);
    await forged.node.close();
    await pump;
  });
});
