// What the diagnostic driver (bench/browser-diagnose.ts) reads from a page besides the status:
// role and leader changes with wall-clock times (who lost the leader first, and when), the timing
// and size of every storage write when the engine runs on the page, and main-thread long tasks.
// Each list is bounded: a diagnostic run must not grow the page it is measuring without limit.
import { IndexedDbRaftStorage, type IndexedDbDurability, type RaftNode } from '../../src/index.ts';

const maxRecords = 50_000;

export interface StorageWrite {
  readonly startMs: number;
  readonly endMs: number;
  readonly entries: number;
}

export interface Transition {
  readonly atMs: number;
  readonly node: string;
  readonly role: string;
  readonly leader: string | null;
  readonly term: number;
}

const wallClock = (): number => performance.timeOrigin + performance.now();
const writes: StorageWrite[] = [];
const transitions: Transition[] = [];
const longTasks: number[] = [];
const keep = <T>(list: T[], item: T): void => {
  if (list.length < maxRecords) list.push(item);
};

if (typeof PerformanceObserver !== 'undefined' && PerformanceObserver.supportedEntryTypes.includes('longtask')) {
  new PerformanceObserver((list) => {
    for (const task of list.getEntries()) keep(longTasks, task.duration);
  }).observe({ type: 'longtask' });
}

/** IndexedDB storage whose writeBatch calls are timed (the engine-on-page diagnostic mode). */
export async function openTimedStorage(name: string, durability: IndexedDbDurability): Promise<IndexedDbRaftStorage> {
  const storage = await IndexedDbRaftStorage.open(name, { durability });
  const writeBatch = storage.writeBatch.bind(storage);
  storage.writeBatch = async (batch) => {
    const startMs = wallClock();
    await writeBatch(batch);
    keep(writes, { startMs, endMs: wallClock(), entries: batch.entries.length });
  };
  return storage;
}

/** Records every change of the node's role or leader, with the term at that moment. */
export function recordTransitions(node: RaftNode, self: string): void {
  const note = (): void => keep(transitions, { atMs: wallClock(), node: self, role: node.role.value, leader: node.leader.value, term: node.term.value });
  node.role.subscribe(note);
  node.leader.subscribe(note);
}

export const diagnosticsApi = {
  storageWrites: (): readonly StorageWrite[] => writes,
  transitions: (): readonly Transition[] => transitions,
  longTasks: (): readonly number[] => longTasks,
};
