// The end-to-end harness itself: the Vite server answers inside the namespace and Debian's
// Chromium loads a page from it.
import { expect, test } from '@playwright/test';

test('the test server serves pages to headless Chromium', async ({ page }) => {
  await page.goto('/e2e/pages/blank.html');
  await expect(page).toHaveTitle('raftmesh e2e');
});
