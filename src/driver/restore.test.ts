// Restoring from storage (SPEC "Storage contract"): a node restarts from a snapshot plus the log
// after it, prefers the membership its storage holds over the bootstrap one, and refuses
// corrupted state, configurations included, with a clear error instead of starting on it.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { clientId, nodeId, type Committed, type ConfigPayload, type LogEntry, type NodeId, type SnapshotMeta } from '../core/types.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { CrashableStorage } from '../testing/crashable-storage.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import { VirtualClock, drainMicrotasks } from '../testing/virtual-clock.ts';
import { createRaftNode, type RaftNode } from './create-raft-node.ts';
import { CorruptStorageError, restoreState } from './restore.ts';

const a = nodeId('a');
const b = nodeId('b');
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const entry = (index: number, term: number, config?: ConfigPayload): LogEntry => ({ index, term, command: bytes(`command ${index}`), isNoOp: false, ...(config === undefined ? {} : { config }) });

const describeCommitted = (item: Committed): string => (item.type === 'install' ? `install ${item.snapshot.throughIndex}` : item.type === 'entry' ? `entry ${item.entry.index}` : `internal ${item.index}`);

function start(storage: RaftStorage, voters: readonly NodeId[] = [a]) {
  const network = createLoopbackNetwork();
  return createRaftNode({ id: a, clusterConfig: { voters }, transport: network.transport(a), storage, raftConfig: { electionTimeoutMin: 20, electionTimeoutMax: 40, heartbeatInterval: 5 } });
}

describe('createRaftNode restores from storage', () => {
  it('restarts from a snapshot plus a log suffix: install, then the suffix, then its own no-op', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(2, a);
    await storage.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 2, config: { old: null, new: { voters: [a] } } }, bytes('state through 5'));
    await storage.appendEntries([entry(6, 2), entry(7, 2)]);
    // The bootstrap names two voters; the snapshot's configuration (a alone) must win, or a
    // single node could never elect itself.
    const node = await start(storage, [a, b]);
    expect(node.membership.value).toEqual({ voters: [a] });
    expect(node.compactionFloor.value).toBe(5);
    await node.awaitLeadership();
    const replayed: string[] = [];
    for await (const item of node.committedFrom(1)) {
      replayed.push(describeCommitted(item));
      if (replayed.length === 4) break;
    }
    expect(replayed).toEqual(['install 5', 'entry 6', 'entry 7', 'internal 8']);
    await node.close();
  });

  it('applies the log through the stored commit index a task after the start, with no leader in reach', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(2, null);
    await storage.saveSnapshot({ lastIncludedIndex: 2, lastIncludedTerm: 2 }, bytes('state through 2'));
    await storage.appendEntries([entry(3, 2), entry(4, 2), entry(5, 2), entry(6, 2)]);
    await storage.saveCommitIndex(5);
    // b is never there: no leader, so only what was stored as committed is applied.
    const node = await start(storage, [a, b]);
    expect(node.commitIndex.value).toBe(2);
    const live: string[] = [];
    const iterator = node.committed()[Symbol.asyncIterator]();
    const replayed: string[] = [];
    const replay = node.committedFrom(1)[Symbol.asyncIterator]();
    for (let count = 0; count < 3; count += 1) {
      const item = (await replay.next()).value as Committed;
      replayed.push(describeCommitted(item));
      const liveItem = (await iterator.next()).value as Committed;
      if (liveItem.type === 'entry') live.push(`entry ${liveItem.entry.index}`);
    }
    expect(replayed).toEqual(['install 2', 'entry 3', 'entry 4']);
    const fifth = (await replay.next()).value as Committed;
    expect(fifth.type === 'entry' && fifth.entry.index).toBe(5);
    expect(live).toEqual(['entry 3', 'entry 4', 'entry 5']);
    expect(node.commitIndex.value).toBe(5);
    expect(node.leader.value).toBeNull();
    await node.close();
  });

  it('raises a stored commit index below the snapshot to it (a crash between the snapshot and the commit index written after it)', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(2, null);
    await storage.appendEntries([entry(1, 2), entry(2, 2)]);
    await storage.saveCommitIndex(1);
    await storage.saveSnapshot({ lastIncludedIndex: 4, lastIncludedTerm: 2 }, bytes('state through 4'));
    const node = await start(storage, [a, b]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(node.commitIndex.value).toBe(4);
    await node.close();
  });

  it('a storage without commitIndex and saveCommitIndex restarts its node at the snapshot: nothing applied until a leader is heard', async () => {
    const stored = new InMemoryRaftStorage();
    await stored.saveTermAndVotedFor(2, null);
    await stored.appendEntries([entry(1, 2), entry(2, 2), entry(3, 2)]);
    await stored.saveCommitIndex(3);
    // The same store through the methods API.md lists, without the optional pair.
    const required: RaftStorage = {
      term: () => stored.term(),
      votedFor: () => stored.votedFor(),
      saveTermAndVotedFor: (term: number, votedFor: NodeId | null) => stored.saveTermAndVotedFor(term, votedFor),
      leaderForTerm: () => stored.leaderForTerm(),
      saveLeaderForTerm: (term: number, leaderId: NodeId) => stored.saveLeaderForTerm(term, leaderId),
      appendEntries: (entries: readonly LogEntry[]) => stored.appendEntries(entries),
      entries: (fromIndex?: number) => stored.entries(fromIndex),
      truncateFrom: (index: number) => stored.truncateFrom(index),
      saveSnapshot: (meta: SnapshotMeta, state: Uint8Array) => stored.saveSnapshot(meta, state),
      loadSnapshot: () => stored.loadSnapshot(),
      discardLogPrefix: (throughIndex: number) => stored.discardLogPrefix(throughIndex),
    };
    const node = await start(required, [a, b]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(node.commitIndex.value).toBe(0);
    await node.close();
  });

  it('ignores the bootstrap configuration when the log holds one', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(1, a);
    await storage.appendEntries([entry(1, 1, { old: null, new: { voters: [a], learners: [b] } })]);
    const node = await start(storage, [a, b, nodeId('c')]);
    expect(node.membership.value).toEqual({ voters: [a], learners: [b] });
    await node.close();
  });

  const backends: ReadonlyArray<readonly [string, () => Promise<RaftStorage>]> = [
    ['InMemoryRaftStorage', async () => new InMemoryRaftStorage()],
    ['IndexedDbRaftStorage', () => IndexedDbRaftStorage.open(`restore-interrupted-compaction-${Date.now()}`)],
  ];
  for (const [backend, open] of backends) {
    it(`finishes a compaction a crash interrupted between saveSnapshot and discardLogPrefix, then appends after the snapshot (${backend})`, async () => {
      const storage = await open();
      await storage.saveTermAndVotedFor(1, a);
      await storage.appendEntries([entry(1, 1), entry(2, 1), entry(3, 1)]);
      // An installed snapshot past the end of the log, stored; the crash came before the discard.
      await storage.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 1, config: { old: null, new: { voters: [a] } } }, bytes('state through 5'));
      const node = await start(storage);
      await node.awaitLeadership();
      const proposed = await node.propose(bytes('after the snapshot'));
      expect(proposed.index).toBe(7); // 6 is the new leader's no-op
      expect(node.stopped.value).toBeNull();
      expect((await storage.entries()).map((stored) => stored.index)).toEqual([6, 7]);
      await node.close();
      if (storage instanceof IndexedDbRaftStorage) storage.close();
    });
  }

  it('restores a log whose last entry is at index 2^53-1, after a snapshot at 2^53-2, from a reopened IndexedDB storage', async () => {
    // IndexedDbRaftStorage wrote such an entry, then refused its own segment as corrupt: the
    // record codec bounded firstIndex + count, one past the last index (review idb52).
    const name = `restore-largest-index-${Date.now()}`;
    const last = Number.MAX_SAFE_INTEGER;
    const storage = await IndexedDbRaftStorage.open(name);
    await storage.saveTermAndVotedFor(3, null);
    await storage.saveSnapshot({ lastIncludedIndex: last - 1, lastIncludedTerm: 3 }, bytes('state'));
    await storage.discardLogPrefix(last - 1);
    const stored: LogEntry = { index: last, term: 3, command: bytes('the last index there is'), isNoOp: false };
    await storage.appendEntries([stored]);
    storage.close();
    const reopened = await IndexedDbRaftStorage.open(name);
    try {
      const restored = await restoreState(reopened);
      expect(restored.entries).toEqual([stored]);
    } finally {
      reopened.close();
      await IndexedDbRaftStorage.destroy(name);
    }
  });

  it('finishes it with the first write, not at restore: a storage whose writes land only as virtual time passes still starts', async () => {
    const durable = new InMemoryRaftStorage();
    await durable.saveTermAndVotedFor(1, a);
    await durable.appendEntries([entry(1, 1), entry(2, 1), entry(3, 1)]);
    await durable.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 1, config: { old: null, new: { voters: [a] } } }, bytes('state through 5'));
    const clock = new VirtualClock();
    const storage = new CrashableStorage(durable, clock, seededRandom(5));
    const network = createLoopbackNetwork();
    let node: RaftNode | null = null;
    void createRaftNode({ id: a, clusterConfig: { voters: [a] }, transport: network.transport(a), storage, raftConfig: { clock, random: seededRandom(6) } }).then((started) => {
      node = started;
    });
    await drainMicrotasks();
    expect(node).not.toBeNull(); // no virtual time has passed: restore wrote nothing
    const started = node as unknown as RaftNode;
    expect(await clock.runUntil(() => started.role.value === 'leader' && started.commitIndex.value >= 6)).toBe(true);
    expect(started.stopped.value).toBeNull();
    expect((await durable.entries()).map((stored) => stored.index)).toEqual([6]);
    await started.close();
  });

  /**
   * `storage` handing back `stored` from its log or snapshot, as a storage that does not check what
   * it stores (one an application wrote, or one whose records were damaged) could: the storages
   * here refuse such a configuration up front (a RangeError, log-bounds.ts), so restore's own
   * refusal is staged behind them.
   */
  function readingBack(storage: InMemoryRaftStorage, stored: { readonly entries?: readonly LogEntry[]; readonly snapshotMeta?: SnapshotMeta; readonly votedFor?: string }): RaftStorage {
    return new Proxy(storage, {
      get(target, property) {
        if (property === 'votedFor' && stored.votedFor !== undefined) {
          const votedFor = stored.votedFor;
          return async () => votedFor;
        }
        if (property === 'entries' && stored.entries !== undefined) {
          const entries = stored.entries;
          return async (fromIndex = 1) => entries.filter((candidate) => candidate.index >= fromIndex);
        }
        if (property === 'loadSnapshot' && stored.snapshotMeta !== undefined) {
          const meta = stored.snapshotMeta;
          return async () => ({ meta, state: bytes('state') });
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  const corruptions: ReadonlyArray<readonly [string, (storage: InMemoryRaftStorage) => Promise<RaftStorage | void>, RegExp]> = [
    ['a log that starts after the snapshot', async (storage) => {
      await storage.saveTermAndVotedFor(2, null);
      await storage.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 1 }, bytes('state'));
      await storage.discardLogPrefix(7);
      await storage.appendEntries([entry(8, 2)]);
    }, /expected index 6, found 8/],
    ['a snapshot configuration without voters', async (storage) => {
      await storage.saveTermAndVotedFor(3, null);
      await storage.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 3 }, bytes('state'));
      return readingBack(storage, { snapshotMeta: { lastIncludedIndex: 5, lastIncludedTerm: 3, config: { old: null, new: { voters: [] } } } });
    }, /snapshot through 5 holds an invalid configuration/],
    ['a log configuration naming a voter twice', async (storage) => {
      await storage.saveTermAndVotedFor(3, null);
      return readingBack(storage, { entries: [entry(1, 3, { old: null, new: { voters: [a, a] } })] });
    }, /entry 1 holds an invalid configuration/],
    ['a joint configuration whose old half overlaps voters and learners', async (storage) => {
      await storage.saveTermAndVotedFor(3, null);
      return readingBack(storage, { entries: [entry(1, 3, { old: { voters: [a], learners: [a] }, new: { voters: [a] } })] });
    }, /entry 1 holds an invalid configuration/],
    ['a vote for an empty node id', async (storage) => {
      // Storages refuse to store it (log-bounds.ts): staged as one that hands it back anyway.
      await storage.saveTermAndVotedFor(3, null);
      return readingBack(storage, { votedFor: '' });
    }, /votedFor "" is not a node id/],
    ['a vote cast in term 0', async (storage) => {
      await storage.saveTermAndVotedFor(0, a);
    }, /stored in term 0, where no election is held/],
    ['an entry of term 0', async (storage) => {
      await storage.saveTermAndVotedFor(1, null);
      await storage.appendEntries([entry(1, 0)]);
    }, /entry 1 has term 0/],
    ['a snapshot through index 0 with a term', async (storage) => {
      await storage.saveTermAndVotedFor(5, null);
      await storage.saveSnapshot({ lastIncludedIndex: 0, lastIncludedTerm: 5 }, bytes('state'));
    }, /pairs index 0 with term 5/],
    ['a snapshot through a later index with term 0', async (storage) => {
      await storage.saveTermAndVotedFor(5, null);
      await storage.saveSnapshot({ lastIncludedIndex: 4, lastIncludedTerm: 0 }, bytes('state'));
    }, /pairs index 4 with term 0/],
    ['a snapshot through the largest safe index, which no entry can follow', async (storage) => {
      await storage.saveTermAndVotedFor(5, null);
      await storage.saveSnapshot({ lastIncludedIndex: Number.MAX_SAFE_INTEGER, lastIncludedTerm: 5 }, bytes('state'));
    }, /snapshot index 9007199254740991 leaves no index for the entry after it/],
    ['a no-op entry with a dedup key', async (storage) => {
      await storage.saveTermAndVotedFor(1, null);
      await storage.appendEntries([{ index: 1, term: 1, command: new Uint8Array(0), isNoOp: true, dedupKey: { clientId: clientId('x'), requestId: 1 } }]);
    }, /entry 1 is a no-op entry with a dedup key/],
    ['a commit index beyond the stored log', async (storage) => {
      await storage.saveTermAndVotedFor(2, null);
      await storage.appendEntries([entry(1, 2), entry(2, 2), entry(3, 2)]);
      await storage.saveCommitIndex(5);
    }, /commit index 5 is beyond the last stored index 3/],
    ['a commit index beyond the snapshot, with no log after it', async (storage) => {
      await storage.saveTermAndVotedFor(2, null);
      await storage.saveSnapshot({ lastIncludedIndex: 4, lastIncludedTerm: 2 }, bytes('state through 4'));
      await storage.saveCommitIndex(6);
    }, /commit index 6 is beyond the last stored index 4/],
    ['a configuration entry with a dedup key', async (storage) => {
      await storage.saveTermAndVotedFor(1, null);
      await storage.appendEntries([{ ...entry(1, 1, { old: null, new: { voters: [a] } }), dedupKey: { clientId: clientId('x'), requestId: 1 } }]);
    }, /entry 1 is a configuration entry with a dedup key/],
  ];

  for (const [name, corrupt, message] of corruptions) {
    it(`refuses to start on ${name}`, async () => {
      const written = new InMemoryRaftStorage();
      const storage = (await corrupt(written)) ?? written;
      const starting = start(storage);
      await expect(starting).rejects.toThrow(CorruptStorageError);
      await expect(starting).rejects.toThrow(message);
    });
  }
});
