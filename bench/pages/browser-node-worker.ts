// The engine's worker for bench/pages/browser-node.ts: the library's own worker entry plus a frame
// watch. Since the data channels moved into the engine's worker, frames from the leader no longer
// pass the page, so the heartbeat phase times them here, where the engine receives them. The page
// talks to this watch over a BroadcastChannel named after the node (the Worker's port belongs to
// Comlink): { watch: sender } starts recording arrivals from `sender`, { watch: null } ends it and
// gets { arrivals } back (this worker's performance.now(), so only the gaps between them count).
import { exposeWorkerNode } from '../../src/worker.ts';
import { frameWatchChannelName } from './frame-watch.ts';

let watched: string | null = null;
let arrivals: number[] = [];
const watch = new BroadcastChannel(frameWatchChannelName((globalThis as unknown as { name: string }).name));
watch.addEventListener('message', (event: MessageEvent<{ watch: string | null }>) => {
  if (event.data.watch === null) watch.postMessage({ arrivals });
  watched = event.data.watch;
  arrivals = [];
});

exposeWorkerNode(globalThis as unknown as Parameters<typeof exposeWorkerNode>[0], {
  onFrame: (envelope) => {
    if (envelope.from === watched) arrivals.push(performance.now());
  },
});
