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

/** Medians (ms) of where each light-load commit's time went, seen from the leader. */
export interface CommitSplit {
  readonly commits: number;
  /** propose() called → the engine appended the entry (the trace's clientRequest). */
  readonly proposeToAppend: number;
  /** Appended → commit index past it: the followers' round trip with their writes, and the leader's own write. */
  readonly appendToCommit: number;
  /** Committed → propose() resolved on the page. */
  readonly commitToResolved: number;
  readonly total: number;
}

/**
 * Proposes `count` commands one at a time on the leader and splits each commit's time by the
 * engine's trace. Only meaningful with the engine on the page: a worker's trace times come from
 * the worker's clock, whose origin is not the page's.
 */
export async function commitSplit(node: RaftNode, count: number): Promise<CommitSplit> {
  const events: { readonly type: string; readonly at: number; readonly index?: number; readonly commitIndex?: number }[] = [];
  const unsubscribe = node.trace.subscribe((event) => events.push(event));
  const columns: [number[], number[], number[], number[]] = [[], [], [], []];
  try {
    for (let commit = 0; commit < count; commit += 1) {
      events.length = 0;
      const proposed = performance.now();
      const { index } = await node.propose(new Uint8Array(100).fill(9));
      const resolved = performance.now();
      const appended = events.find((event) => event.type === 'clientRequest' && event.index === index)?.at ?? Number.NaN;
      const committed = events.find((event) => event.type === 'advanceCommitIndex' && (event.commitIndex ?? 0) >= index)?.at ?? Number.NaN;
      if (!Number.isFinite(appended) || !Number.isFinite(committed)) continue;
      columns[0].push(appended - proposed);
      columns[1].push(committed - appended);
      columns[2].push(resolved - committed);
      columns[3].push(resolved - proposed);
    }
  } finally {
    unsubscribe();
  }
  const median = (values: number[]): number => values.sort((left, right) => left - right)[Math.floor(values.length / 2)] ?? Number.NaN;
  return { commits: columns[3].length, proposeToAppend: median(columns[0]), appendToCommit: median(columns[1]), commitToResolved: median(columns[2]), total: median(columns[3]) };
}

export const diagnosticsApi = {
  storageWrites: (): readonly StorageWrite[] => writes,
  transitions: (): readonly Transition[] => transitions,
  longTasks: (): readonly number[] => longTasks,
};
