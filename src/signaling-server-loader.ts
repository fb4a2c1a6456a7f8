// API.md exports everything from the package root, startSignalingServer included, and the root
// runs anywhere (browsers too). The server needs node:http and ws, so the root's
// startSignalingServer loads it on the first call, through a specifier bundlers do not follow: a
// browser bundle of the root never contains it, and Node loads it as `raftmesh/signaling-server`
// does. The subpath entry stays the direct way in.
import type * as ServerModule from './signaling/server/index.ts';
import type { SignalingServer, SignalingServerOptions } from './signaling/server/index.ts';

/** Beside this file: `.ts` when run from source (tsx, vitest), `.js` when built. */
function serverEntry(): string {
  const here = import.meta.url;
  const extension = new URL(here).pathname.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`./signaling/server/index.${extension}`, here).href;
}

/** Starts the signaling server (Node only): the same function as `raftmesh/signaling-server`'s. */
export async function startSignalingServer(options: SignalingServerOptions): Promise<SignalingServer> {
  const server = (await import(/* @vite-ignore */ serverEntry())) as typeof ServerModule;
  return server.startSignalingServer(options);
}
