// Does a resolved propose run ahead of the committed stream it caused? createRaftNode: once
// propose resolves, a stream opened before the call hands out the entry without waiting for
// anything but microtasks (its applied index already covers it). The worker node should too
// (README: "a resolved propose is never ahead of commitIndex, metrics or streams").
import { describe, expect, it } from 'vitest';
import type { Committed } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { soloDriver, soloWorker } from './parity.test-support.ts';

const indexOf = (item: Committed): number => (item.type === 'entry' ? item.entry.index : item.type === 'internal' ? item.index : item.snapshot.throughIndex);

/** The promise's value if it settles within `hops` microtask turns (no task may run), else 'not yet'. */
async function withinMicrotasks<T>(promise: Promise<T>, hops = 2_000): Promise<T | 'not yet'> {
  let value: { v: T } | null = null;
  void promise.then((v) => (value = { v }));
  for (let hop = 0; hop < hops && value === null; hop += 1) await Promise.resolve();
  return value === null ? 'not yet' : (value as { v: T }).v;
}

async function scenario(node: RaftNode, commandBytes: number, count: number): Promise<{ resolvedIndex: number; commitIndex: number; streamReached: number | 'not yet' }> {
  await node.awaitLeadership();
  const iterator = node.committed()[Symbol.asyncIterator]();
  // The stream is open (a next() waits on it) before the proposals are made.
  const firstPull = iterator.next();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const proposals = Array.from({ length: count }, (_, k) => node.propose(new Uint8Array(commandBytes).fill(k)));
  const last = await proposals[count - 1]!;
  await Promise.all(proposals);
  const commitIndex = node.commitIndex.value;
  // From here on no task runs until the stream either reached the entry or gave up.
  let reached = 0;
  let pending: Promise<IteratorResult<Committed>> = firstPull;
  for (;;) {
    const result = await withinMicrotasks(pending);
    if (result === 'not yet') return { resolvedIndex: last.index, commitIndex, streamReached: reached === 0 ? 'not yet' : reached };
    if (result.done === true) break;
    reached = indexOf(result.value);
    if (reached >= last.index) break;
    pending = iterator.next();
  }
  await iterator.return?.();
  return { resolvedIndex: last.index, commitIndex, streamReached: reached };
}

describe('a resolved propose and a committed stream opened before it', () => {
  for (const kind of ['driver', 'worker'] as const) {
    it(`${kind}: 12 proposals of 60 KiB in one burst: once the last resolves, the stream hands out every entry through it without waiting for a task`, async () => {
      const node = kind === 'driver' ? await soloDriver() : (await soloWorker()).node;
      const outcome = await scenario(node, 60 * 1024, 12);
      await node.close();
      expect(outcome.commitIndex).toBeGreaterThanOrEqual(outcome.resolvedIndex);
      expect(outcome.streamReached).toBe(outcome.resolvedIndex);
    });
    it(`${kind}: 400 proposals of 1,000 bytes in one burst (well inside the stream's 512-item, 4 MiB window): same`, async () => {
      const node = kind === 'driver' ? await soloDriver() : (await soloWorker()).node;
      const outcome = await scenario(node, 1_000, 400);
      await node.close();
      expect(outcome.commitIndex).toBeGreaterThanOrEqual(outcome.resolvedIndex);
      expect(outcome.streamReached).toBe(outcome.resolvedIndex);
    });
  }
});
