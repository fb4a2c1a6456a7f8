// The package's own name, resolved to its sources: the demo imports `raftmesh`, `raftmesh/rooms`,
// `raftmesh/worker` and `raftmesh/webrtc` as an application does (so its files can be copied into
// one as they are: a newcomer found its `../../src/*.ts` imports in the way), and the dev server,
// the demo's build and Vitest map those names to src/ here, as tsconfig.json's `paths` do for the
// type checker. Keep the three in step with package.json "exports".
import { fileURLToPath } from 'node:url';

const sourceDirectory = fileURLToPath(new URL('../src/', import.meta.url));

/** Vite `resolve.alias` entries. */
export const raftmeshSourceAliases = [
  { find: /^raftmesh$/, replacement: `${sourceDirectory}index.ts` },
  { find: /^raftmesh\/testing$/, replacement: `${sourceDirectory}testing/index.ts` },
  { find: /^raftmesh\/(worker|rooms|webrtc|node)$/, replacement: `${sourceDirectory}$1.ts` },
];
