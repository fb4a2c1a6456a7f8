// `WebRtcTransport` as a value (webrtc-transport.ts) is built by a call at the module's top level,
// and the package root re-exports raftmesh/webrtc: unless that call is marked pure, a bundler keeps
// it, and with it the whole WebRTC transport and signaling client, in the bundle of an application
// that imports only the engine from `raftmesh`. Bundled here as the demo's build does (Vite).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Rolldown } from 'vite';
import { describe, expect, it } from 'vitest';

const rootEntry = fileURLToPath(new URL('../../index.ts', import.meta.url));

async function bundle(source: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'raftmesh-bundle-'));
  try {
    const entry = join(directory, 'entry.js');
    await writeFile(entry, source);
    const output = await build({
      configFile: false,
      logLevel: 'silent',
      build: {
        write: false,
        minify: false,
        lib: { entry, formats: ['es'], fileName: 'out' },
        rolldownOptions: { external: ['idb', 'comlink', 'ws', 'simple-peer-light'] },
      },
    });
    const results = (Array.isArray(output) ? output : [output]) as Rolldown.RolldownOutput[];
    return results.flatMap((result) => result.output).map((chunk) => (chunk.type === 'chunk' ? chunk.code : '')).join('\n');
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

describe('the package root in a bundle', () => {
  it('leaves the WebRTC transport out of an application that imports only the engine', async () => {
    const code = await bundle(`import { createRaftNode } from ${JSON.stringify(rootEntry)};\nconsole.log(createRaftNode);\n`);
    // Booleans: a failure would otherwise print the whole bundle.
    expect(code.includes('createRaftNode')).toBe(true);
    expect(code.includes('framesDroppedMalformed')).toBe(false);
    expect(code.includes('Symbol.hasInstance')).toBe(false);
  }, 60_000);

  it('keeps it, and WebRtcTransport works as a value, when the application uses it', async () => {
    const code = await bundle(`import { WebRtcTransport } from ${JSON.stringify(rootEntry)};\nconsole.log(WebRtcTransport);\n`);
    expect(code.includes('framesDroppedMalformed')).toBe(true);
    expect(code.includes('Symbol.hasInstance')).toBe(true);
  }, 60_000);
});
