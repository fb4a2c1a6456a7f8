// Shared by the browser benchmarks: a Vite dev server over the repository (so bench pages import
// the library's sources) and Debian's headless Chromium with the flags from ENVIRONMENT.md.
// Run inside the loopback-only namespace (scripts/run-loopback.mjs does that for npm scripts).
import { chromium, type Browser, type Page } from 'playwright';
import { createServer, type ViteDevServer } from 'vite';
import { chromiumArguments, chromiumPath } from '../scripts/browser-flags.mjs';

export interface BrowserHarness {
  readonly browser: Browser;
  readonly baseUrl: string;
  openPage(path: string, ready: string): Promise<Page>;
  close(): Promise<void>;
}

export async function startBrowserHarness(): Promise<BrowserHarness> {
  const server: ViteDevServer = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { host: '127.0.0.1', port: 0 } });
  await server.listen();
  const address = server.httpServer?.address();
  if (address === null || address === undefined || typeof address === 'string') throw new Error('the Vite server has no TCP address');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArguments, headless: true });
  return {
    browser,
    baseUrl,
    async openPage(path, ready) {
      const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
      await page.goto(`${baseUrl}${path}`);
      await page.waitForFunction(ready);
      return page;
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

export async function chromiumVersion(browser: Browser): Promise<string> {
  return browser.version();
}
