// RaftStorage.failure: a storage that fails outside any call says so, and the node stops then, not
// at its next write (an idle node makes none). IndexedDB's own cases (a deletion by another tab,
// the browser closing the connection) are in src/storage/indexeddb-storage*.test.ts; these are
// the driver's rules, on an in-memory storage that reports a failure when told to.
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import type { RaftMetric } from '../core/events.ts';
import { createWatchable, type WritableWatchable } from '../core/observable.ts';
import { nodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createRaftNode } from './create-raft-node.ts';

const solo = nodeId('solo');
const fastConfig = { electionTimeoutMin: 20, electionTimeoutMax: 40, heartbeatInterval: 5 };

/** An in-memory storage with a failure watchable the test sets, as IndexedDB's events would. */
function failingStorage(): { storage: RaftStorage; failure: WritableWatchable<RaftStorageError | null> } {
  const failure = createWatchable<RaftStorageError | null>(null);
  const storage = Object.assign(new InMemoryRaftStorage(), { failure });
  return { storage, failure };
}

async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('a storage that fails outside any call', () => {
  it('stops an idle leader at once: stopped holds a RaftStorageError with the reason, one storageFailed metric, every call rejects', async () => {
    const { storage, failure } = failingStorage();
    const metrics: RaftMetric[] = [];
    const node = await createRaftNode({ id: solo, clusterConfig: { voters: [solo] }, transport: createLoopbackNetwork().transport(solo), storage, raftConfig: fastConfig, onMetric: (metric) => metrics.push(metric) });
    await node.awaitLeadership();
    await node.propose(new Uint8Array([1]));
    const pendingRead = node.readIndex();
    failure.set(new RaftStorageError('the database is being deleted', { reason: 'databaseDeleted' }));
    await waitUntil(() => node.stopped.value !== null);
    const stoppedBy = node.stopped.value as RaftStorageError;
    expect(stoppedBy).toBeInstanceOf(RaftStorageError);
    expect(stoppedBy.reason).toBe('databaseDeleted');
    expect(stoppedBy.message).toContain('the database is being deleted');
    expect((stoppedBy.cause as Error).message).toBe('the database is being deleted');
    expect(metrics.filter((metric) => metric.type === 'storageFailed')).toEqual([{ type: 'storageFailed', message: 'the database is being deleted', reason: 'databaseDeleted' }]);
    // The read issued before may have been answered already (a one-voter leader answers at once);
    // if not, it rejects with the stop. Nothing later is served.
    await pendingRead.catch((error: unknown) => expect(error).toBe(stoppedBy));
    await expect(node.readIndex()).rejects.toBe(stoppedBy);
    await expect(node.propose(new Uint8Array([2]))).rejects.toBe(stoppedBy);
    // close() after such a stop settles (nothing is left to wait for).
    await node.close();
  });

  it('a node is not started on a storage that has already failed', async () => {
    const { storage, failure } = failingStorage();
    failure.set(new RaftStorageError('the browser closed the database connection', { reason: 'databaseDeleted' }));
    await expect(createRaftNode({ id: solo, clusterConfig: { voters: [solo] }, transport: createLoopbackNetwork().transport(solo), storage, raftConfig: fastConfig })).rejects.toMatchObject({ name: 'RaftStorageError', reason: 'databaseDeleted' });
  });

  it('after close() the storage failing (its owner closing it next) changes nothing: stopped stays the close', async () => {
    const { storage, failure } = failingStorage();
    const node = await createRaftNode({ id: solo, clusterConfig: { voters: [solo] }, transport: createLoopbackNetwork().transport(solo), storage, raftConfig: fastConfig });
    await node.close();
    failure.set(new RaftStorageError('closed by its owner', { reason: 'closed' }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(node.stopped.value?.name).toBe('RaftClosedError');
  });

  it('a failure watchable of the wrong shape is refused at construction, naming the field', async () => {
    const storage = Object.assign(new InMemoryRaftStorage(), { failure: { value: null } });
    await expect(createRaftNode({ id: solo, clusterConfig: { voters: [solo] }, transport: createLoopbackNetwork().transport(solo), storage: storage as unknown as RaftStorage })).rejects.toThrow(/storage\.failure/);
  });
});
