import { expect, it } from 'vitest';
it('runs in chromium', async () => {
  expect(typeof indexedDB).toBe('object');
  expect(navigator.userAgent).toContain('Chrome');
});
