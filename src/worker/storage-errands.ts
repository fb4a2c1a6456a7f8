// Work on an id's storage with no node on it: read what it holds, or delete it, each in a worker
// of its own that is terminated once it answers, or, for a read, kept for the node that usually
// follows it (readStoredStateKeepingWorker). The page then never opens the database itself, so a
// page whose engine runs in a worker ships no IndexedDB code and loads no log or snapshot
// (workerNodeFactory's readStoredState and discardStorage, which joinRoom calls).
import { wrap, type Remote } from 'comlink';
import type { NodeId } from '../core/types.ts';
import type { StoredNodeState } from '../storage/stored-node-state.ts';
import { rebuildError, WorkerCrashedError } from './error-transfer.ts';
import type { Answer, WorkerNodeApi, WorkerStorageOptions } from './protocol.ts';
import { lifeLockName, webLocks } from './worker-life.ts';
import { claimWorker, crashDetail, createEntryWorker, endKeptWorker, holdAndWatchLife, requireWorkerRuntime, silentDeathDetail, validateWorkerStorage, type KeptWorker, type WorkerEndpoint } from './worker-client.ts';

export interface StorageErrandOptions {
  /** A worker running raftmesh/worker's entry, taken for this errand (and ended after it, or kept by a read for its node); by default one is created. */
  readonly worker?: WorkerEndpoint | undefined;
  /** Aborting terminates the worker and rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * How long an errand may take. Opening waits for the database's lock (lockTimeoutMs, seconds at
 * most by default) and a read takes well under a second at the log sizes compaction keeps; a
 * worker the browser killed without an error event would otherwise leave the call unsettled.
 */
export const storageErrandTimeoutMs = 30_000;

export async function readStoredStateInWorker(storage: WorkerStorageOptions, options: StorageErrandOptions = {}): Promise<StoredNodeState> {
  const { value, kept } = await runErrand(storage, options, 'read', (remote, plain) => remote.readStoredState(plain));
  endKeptWorker(kept);
  return value;
}

/**
 * The read for `id`'s node, with its worker left running for the caller (who must end it, or
 * start the node on it with createWorkerRaftNodeOn). It holds no database open: the read closed
 * what it opened. It holds its life lock (worker-life.ts) from the read on, where Web Locks exist,
 * so a death while it waits is seen (no error event comes with one).
 */
export async function readStoredStateKeepingWorker(storage: WorkerStorageOptions, id: NodeId, options: StorageErrandOptions = {}): Promise<{ readonly state: StoredNodeState; readonly kept: KeptWorker }> {
  const lockName = lifeLockName(id);
  const { value, kept } = await runErrand(
    storage,
    options,
    'read',
    async (remote, plain) => {
      const locks = webLocks();
      // Watched from the read on: a death during the read fails it at once, where only the
      // errand's 30 s bound would have ended it. Between this watch and the spare's (or the
      // node's), a death leaves the lock free, and the next request for it is granted as soon as
      // it is made: nothing is missed in the gap.
      let fail: (error: unknown) => void = () => {};
      const died = new Promise<never>((_, reject) => (fail = reject));
      const life = locks === null ? null : holdAndWatchLife(remote, locks, lockName, () => fail(new WorkerCrashedError(silentDeathDetail)));
      try {
        const [answer, holds] = await Promise.race([Promise.all([remote.readStoredState(plain), life?.held ?? false]), died]);
        return answer.type === 'ok' ? { type: 'ok', value: { state: answer.value, lifeLock: holds ? lockName : null } } : answer;
      } finally {
        life?.stop();
      }
    },
    `raftmesh ${id}`,
  );
  return { state: value.state, kept: { ...kept, lifeLock: value.lifeLock } };
}

export async function destroyStorageInWorker(storage: WorkerStorageOptions, options: StorageErrandOptions = {}): Promise<void> {
  endKeptWorker((await runErrand(storage, options, 'delete', (remote, plain) => remote.destroyStorage(plain))).kept);
}

/** Runs the errand; on success the worker is left running, still claimed and wrapped, for the caller; else it is ended. */
async function runErrand<T>(
  storage: WorkerStorageOptions,
  options: StorageErrandOptions,
  what: 'read' | 'delete',
  call: (remote: Remote<WorkerNodeApi>, storage: WorkerStorageOptions) => Promise<Answer<T>>,
  workerName = `raftmesh storage ${what}`,
): Promise<{ readonly value: T; readonly kept: KeptWorker }> {
  validateWorkerStorage(storage, `the storage to ${what}`);
  requireWorkerRuntime(options.worker, what === 'read' ? 'readStoredState' : 'discardStorage');
  options.signal?.throwIfAborted();
  const worker = options.worker ?? createEntryWorker(workerName);
  claimWorker(worker);
  const kept: KeptWorker = { endpoint: worker, remote: wrap<WorkerNodeApi>(worker), lifeLock: null };
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const onCrash = (event: Event): void => fail(new WorkerCrashedError(crashDetail(event)));
  const onAbort = (): void => fail(options.signal?.reason);
  worker.addEventListener('error', onCrash);
  worker.addEventListener('messageerror', onCrash);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => fail(new Error(`the worker did not ${what} the storage within ${storageErrandTimeoutMs} ms`)), storageErrandTimeoutMs);
  let succeeded = false;
  try {
    // Copied into plain data: an options object may be a Proxy, which structured cloning refuses.
    const answer = await Promise.race([call(kept.remote, { ...storage }), failed]);
    if (answer.type === 'error') throw rebuildError(answer.error);
    succeeded = true;
    return { value: answer.value, kept };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    worker.removeEventListener('error', onCrash);
    worker.removeEventListener('messageerror', onCrash);
    if (!succeeded) endKeptWorker(kept);
  }
}
