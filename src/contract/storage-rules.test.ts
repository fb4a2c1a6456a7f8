// SPEC "Storage contract" and API.md "Storage and transport", black-box: restoring refuses
// corrupted state with a clear error, and the shipped adapters apply calls in the order they were
// made even when the caller does not await each one before the next (a driver pipelines writes).
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  clientId,
  CorruptStorageError,
  createRaftNode,
  IndexedDbRaftStorage,
  InMemoryRaftStorage,
  nodeId,
  VirtualClock,
  type DedupKey,
  type LogEntry,
  type RaftStorage,
  type StoredSnapshot,
} from '../index.ts';
import { createPartitionableNetwork } from './contract-cluster.test-support.ts';

const a = nodeId('a');
const b = nodeId('b');
const entry = (index: number, term: number, extra: Partial<LogEntry> = {}): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false, ...extra });

/** A storage whose reads return what the test says, as a corrupted disk would. */
class CorruptedStorage extends InMemoryRaftStorage {
  constructor(private readonly forged: { term?: number; votedFor?: string | null; pin?: { term: number; leaderId: string } | null; entries?: LogEntry[]; snapshot?: StoredSnapshot | null }) {
    super();
  }
  override async term(): Promise<number> {
    return this.forged.term ?? super.term();
  }
  override async votedFor(): Promise<ReturnType<typeof nodeId> | null> {
    return this.forged.votedFor === undefined ? super.votedFor() : (this.forged.votedFor as ReturnType<typeof nodeId> | null);
  }
  override async leaderForTerm(): Promise<{ term: number; leaderId: ReturnType<typeof nodeId> } | null> {
    return this.forged.pin === undefined ? super.leaderForTerm() : (this.forged.pin as { term: number; leaderId: ReturnType<typeof nodeId> } | null);
  }
  override async entries(fromIndex = 1): Promise<LogEntry[]> {
    return this.forged.entries === undefined ? super.entries(fromIndex) : this.forged.entries.filter((logged) => logged.index >= fromIndex);
  }
  override async loadSnapshot(): Promise<StoredSnapshot | null> {
    return this.forged.snapshot === undefined ? super.loadSnapshot() : this.forged.snapshot;
  }
}

const start = (storage: RaftStorage): Promise<unknown> =>
  createRaftNode({ id: a, clusterConfig: { voters: [a, b] }, transport: createPartitionableNetwork().transport(a), storage, raftConfig: { clock: new VirtualClock() } });

describe('SPEC Storage contract: restoring validates what it reads', () => {
  it.each<[string, ConstructorParameters<typeof CorruptedStorage>[0], RegExp]>([
    ['a gap in the log', { term: 3, entries: [entry(1, 1), entry(3, 1)] }, /contiguous/],
    ['a log that does not start right after the snapshot', { term: 3, snapshot: { meta: { lastIncludedIndex: 5, lastIncludedTerm: 1 }, state: new Uint8Array() }, entries: [entry(7, 1)] }, /contiguous/],
    ['terms decreasing', { term: 3, entries: [entry(1, 2), entry(2, 1)] }, /terms decrease/],
    ['an entry term below the snapshot term', { term: 3, snapshot: { meta: { lastIncludedIndex: 1, lastIncludedTerm: 2 }, state: new Uint8Array() }, entries: [entry(2, 1)] }, /terms decrease/],
    ['an entry term beyond the stored term', { term: 1, entries: [entry(1, 2)] }, /beyond the stored term/],
    ['a snapshot term beyond the stored term', { term: 1, snapshot: { meta: { lastIncludedIndex: 1, lastIncludedTerm: 2 }, state: new Uint8Array() } }, /snapshot term/],
    ['a term that is not a safe integer', { term: 2 ** 53 }, /term/],
    ['a negative term', { term: -1 }, /term/],
    ['a leader pin ahead of the term', { term: 1, pin: { term: 2, leaderId: 'b' } }, /pin/],
    ['a vote for an empty id', { term: 1, votedFor: '' }, /votedFor/],
    ['a configuration entry without voters', { term: 1, entries: [entry(1, 1, { config: { old: null, new: { voters: [] } } })] }, /configuration/],
    // A dedup key travels to every replica and into the application's ClientSessionTable; one the
    // wire cannot carry (a request id past 2^53) or the table refuses would stop a node later.
    ['a dedup key whose client id is not a string', { term: 1, entries: [entry(1, 1, { dedupKey: { clientId: 5, requestId: 1 } as unknown as DedupKey })] }, /dedup key/],
    ['a dedup key whose client id is empty', { term: 1, entries: [entry(1, 1, { dedupKey: { clientId: '', requestId: 1 } as unknown as DedupKey })] }, /dedup key/],
    ['a dedup key whose request id is not a safe integer', { term: 1, entries: [entry(1, 1, { dedupKey: { clientId: clientId('x'), requestId: 2 ** 60 } })] }, /dedup key/],
    ['a dedup key whose request id is negative', { term: 1, entries: [entry(1, 1, { dedupKey: { clientId: clientId('x'), requestId: -1 } })] }, /dedup key/],
    ['a dedup key that is not an object', { term: 1, entries: [entry(1, 1, { dedupKey: 'x-1' as unknown as DedupKey })] }, /dedup key/],
    ['an isNoOp that is not a boolean', { term: 1, entries: [entry(1, 1, { isNoOp: 'no' as unknown as boolean })] }, /isNoOp/],
    ['a snapshot configuration naming an id twice', { term: 1, snapshot: { meta: { lastIncludedIndex: 1, lastIncludedTerm: 1, config: { old: null, new: { voters: [a, a] } } }, state: new Uint8Array() } }, /configuration/],
    ['a snapshot whose state is not bytes', { term: 1, snapshot: { meta: { lastIncludedIndex: 1, lastIncludedTerm: 1 }, state: 'state' as unknown as Uint8Array } }, /holds no bytes/],
  ])('refuses %s with CorruptStorageError saying what is wrong', async (_name, forged, message) => {
    const attempt = start(new CorruptedStorage(forged));
    await expect(attempt).rejects.toBeInstanceOf(CorruptStorageError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('starts on a consistent state: snapshot, then the entries right after it, terms rising to the stored term', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(3, b);
    await storage.saveSnapshot({ lastIncludedIndex: 4, lastIncludedTerm: 2, config: { old: null, new: { voters: [a, b] } } }, new Uint8Array([1]));
    await storage.discardLogPrefix(4);
    await storage.appendEntries([entry(5, 2), entry(6, 3)]);
    const node = (await start(storage)) as { commitIndex: { value: number }; compactionFloor: { value: number }; term: { value: number }; close(): Promise<void> };
    expect(node.compactionFloor.value).toBe(4);
    expect(node.term.value).toBe(3);
    await node.close();
  });
});

type Opener = () => Promise<{ storage: RaftStorage; done(): Promise<void> }>;
let databases = 0;
const adapters: Array<[string, Opener]> = [
  ['InMemoryRaftStorage', async () => ({ storage: new InMemoryRaftStorage(), done: async () => {} })],
  [
    'IndexedDbRaftStorage (fake-indexeddb)',
    async () => {
      databases += 1;
      const name = `storage-rules-${databases}`;
      const storage = await IndexedDbRaftStorage.open(name);
      return {
        storage,
        done: async () => {
          storage.close();
        },
      };
    },
  ],
];

describe.each(adapters)('API.md RaftStorage ordering: %s', (_name, open) => {
  it('calls made without awaiting each land in call order: appends, truncation, re-append', async () => {
    const { storage, done } = await open();
    const writes = [storage.appendEntries([entry(1, 1), entry(2, 1), entry(3, 1)]), storage.truncateFrom(2), storage.appendEntries([entry(2, 2)]), storage.saveTermAndVotedFor(1, a), storage.saveTermAndVotedFor(2, null)];
    const read = storage.entries();
    await Promise.all(writes);
    // A read made after the writes sees all of them.
    expect((await read).map((logged) => [logged.index, logged.term])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(await storage.term()).toBe(2);
    expect(await storage.votedFor()).toBeNull();
    await done();
  });

  it('a snapshot saved then its prefix discarded, without awaiting, leaves the snapshot and the rest of the log', async () => {
    const { storage, done } = await open();
    await storage.appendEntries([entry(1, 1), entry(2, 1), entry(3, 1)]);
    const writes = [storage.saveSnapshot({ lastIncludedIndex: 2, lastIncludedTerm: 1 }, new Uint8Array([9])), storage.discardLogPrefix(2), storage.appendEntries([entry(4, 1)])];
    const snapshot = storage.loadSnapshot();
    const entries = storage.entries();
    await Promise.all(writes);
    expect(await snapshot).toEqual({ meta: { lastIncludedIndex: 2, lastIncludedTerm: 1 }, state: new Uint8Array([9]) });
    expect((await entries).map((logged) => logged.index)).toEqual([3, 4]);
    await done();
  });

  it('a refused call (a gap) changes nothing and does not disturb the calls around it', async () => {
    const { storage, done } = await open();
    const first = storage.appendEntries([entry(1, 1)]);
    const refused = storage.appendEntries([entry(3, 1)]).then(
      () => null,
      (error: unknown) => error,
    );
    const after = storage.appendEntries([entry(2, 1)]);
    await first;
    expect(await refused).toBeInstanceOf(Error);
    await after;
    expect((await storage.entries()).map((logged) => logged.index)).toEqual([1, 2]);
    await done();
  });
});
