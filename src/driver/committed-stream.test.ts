// committedIterable against a stand-in source: what it hands out, and when. An install is handed
// out only once the snapshot is durable here (appliedIndex reaches it), as an entry is: a snapshot
// a leader installed in memory, its write still in flight, used to reach the application first.
import { describe, expect, it } from 'vitest';
import { committedIterable, type CommittedSource } from './committed-stream.ts';
import type { Committed, LogEntry } from '../core/types.ts';

function source(entries: readonly LogEntry[], snapshotThrough: number, applied: number) {
  let waiters: Array<() => void> = [];
  const state = { applied };
  const stand: CommittedSource = {
    get appliedIndex() {
      return state.applied;
    },
    entryAt: (index) => entries.find((entry) => entry.index === index),
    waitForProgress: () => new Promise<void>((resolve) => waiters.push(resolve)),
    closed: false,
    installFor: (index) => (index > snapshotThrough ? null : { committed: { type: 'install', snapshot: { throughIndex: snapshotThrough, state: new Uint8Array([1]) } }, nextIndex: snapshotThrough + 1 }),
  };
  const advance = (to: number): void => {
    state.applied = to;
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };
  return { stand, advance };
}

describe('committedIterable', () => {
  it('hands out an install only once appliedIndex covers the snapshot, then the entries after it', async () => {
    const entries: LogEntry[] = [{ index: 21, term: 3, command: new Uint8Array([21]), isNoOp: false }];
    const { stand, advance } = source(entries, 20, 10); // entries 1..20 compacted; applied only through 10
    const iterator = committedIterable(stand, 1)[Symbol.asyncIterator]();
    let first: Committed | null = null;
    const pending = iterator.next().then((result) => (first = result.value as Committed));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(first).toBeNull();
    advance(21);
    await pending;
    expect(first).toMatchObject({ type: 'install', snapshot: { throughIndex: 20 } });
    expect((await iterator.next()).value).toMatchObject({ type: 'entry', entry: { index: 21 } });
  });
});
