// joinRoom's default engine, loaded on first use (default-node.ts).
import { afterEach, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.doUnmock('../driver/create-raft-node.ts');
  vi.resetModules();
});

it('loads createRaftNode once and hands every caller the same function', async () => {
  const { loadDefaultCreateNode } = await import('./default-node.ts');
  const { createRaftNode } = await import('../driver/create-raft-node.ts');
  const first = loadDefaultCreateNode();
  expect(loadDefaultCreateNode()).toBe(first);
  expect(await first).toBe(createRaftNode);
});

it('forgets a load that failed, so the next join loads again instead of failing for good', async () => {
  vi.resetModules();
  let attempts = 0;
  vi.doMock('../driver/create-raft-node.ts', async (importOriginal) => {
    attempts += 1;
    if (attempts === 1) throw new Error('Failed to fetch dynamically imported module');
    return importOriginal();
  });
  const { loadDefaultCreateNode } = await import('./default-node.ts');
  // The failed load rejects (vitest wraps the factory's error in one of its own, its cause).
  await expect(loadDefaultCreateNode()).rejects.toMatchObject({ cause: { message: 'Failed to fetch dynamically imported module' } });
  const createNode = await loadDefaultCreateNode();
  expect(typeof createNode).toBe('function');
  expect(attempts).toBe(2);
});
