import { describe, it, expect } from 'vitest';
import { harness, enc } from './harness.test-support.ts';

describe('smoke', () => {
  it('elects and commits', async () => {
    const h = await harness(['a', 'b', 'c']);
    const l = await h.waitLeader();
    const r = await h.settle(h.node('a').propose(enc('x')));
    expect(r?.ok).toBe(true);
    expect(l.role.value).toBe('leader');
    await h.closeAll();
  });
});
