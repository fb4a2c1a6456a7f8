// The life lock's two halves against a fake lock manager with a browser's semantics: the page hears
// of the worker's end only when the worker's context ends, never while it lives, never after the
// page stopped watching, and a page request that fails (page suspended or unloading) is no death.
import { describe, expect, it } from 'vitest';
import { createFakeLockManager } from './fake-lock-manager.test-support.ts';
import { holdLifeLock, lifeLockName, watchWorkerLife } from './worker-life.ts';

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

async function heldAndWatched(): Promise<{ locks: ReturnType<typeof createFakeLockManager>; name: string; gone: string[]; release: () => void; stop: () => void }> {
  const locks = createFakeLockManager();
  const name = lifeLockName('n1');
  const held = await holdLifeLock(locks, name);
  expect(held).not.toBeNull();
  const gone: string[] = [];
  const watch = watchWorkerLife(locks, name, () => gone.push('gone'));
  await settle();
  return { locks, name, gone, release: () => held!.release(), stop: () => watch.stop() };
}

describe('the worker life lock', () => {
  it('names are unique and carry the node id', () => {
    const names = new Set(Array.from({ length: 1_000 }, () => lifeLockName('board-7')));
    expect(names.size).toBe(1_000);
    for (const name of names) expect(name).toMatch(/^raftmesh:worker-life:board-7:[0-9a-f]{24}$/);
  });

  it('while the worker lives the page waits; when its context ends the page hears it once', async () => {
    const { locks, name, gone } = await heldAndWatched();
    expect(locks.held()).toEqual([name]);
    expect(locks.pending()).toEqual([name]);
    await settle();
    expect(gone).toEqual([]);
    locks.endHolderOf(name);
    await settle();
    expect(gone).toEqual(['gone']);
    // The page gave the lock straight back: nothing left held or queued.
    expect(locks.held()).toEqual([]);
    expect(locks.pending()).toEqual([]);
  });

  it('stop() withdraws the page request: a later end (or an orderly release) raises nothing', async () => {
    const { locks, name, gone, stop } = await heldAndWatched();
    stop();
    stop(); // idempotent
    await settle();
    expect(locks.pending()).toEqual([]);
    locks.endHolderOf(name);
    await settle();
    expect(gone).toEqual([]);
    expect(locks.held()).toEqual([]);
  });

  it('an orderly close (page stops watching, then the worker releases) raises nothing and leaves nothing', async () => {
    const { locks, gone, stop, release } = await heldAndWatched();
    stop();
    release();
    await settle();
    expect(gone).toEqual([]);
    expect(locks.held()).toEqual([]);
    expect(locks.pending()).toEqual([]);
  });

  it('a page request that fails instead of being granted (page suspended or unloading) is not a death', async () => {
    const { locks, name, gone } = await heldAndWatched();
    locks.dropPending(new DOMException('the document is being unloaded', 'AbortError'));
    await settle();
    locks.endHolderOf(name);
    await settle();
    expect(gone).toEqual([]);
  });

  it('holding fails softly: a name already taken, or a lock manager that throws, gives null (no watch)', async () => {
    const locks = createFakeLockManager();
    const name = lifeLockName('n1');
    expect(await holdLifeLock(locks, name)).not.toBeNull();
    expect(await holdLifeLock(locks, name)).toBeNull();
    const throwing = { request: () => Promise.reject(new DOMException('no locks in this context', 'SecurityError')) };
    expect(await holdLifeLock(throwing, lifeLockName('n2'))).toBeNull();
  });

  it('a lock manager that throws on the page leaves no watch and no crash', async () => {
    const gone: string[] = [];
    const throwing = { request: () => Promise.reject(new DOMException('no locks in this context', 'SecurityError')) };
    const watch = watchWorkerLife(throwing, lifeLockName('n1'), () => gone.push('gone'));
    await settle();
    watch.stop();
    expect(gone).toEqual([]);
  });
});
