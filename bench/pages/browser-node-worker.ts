// The engine's worker for bench/pages/browser-node.ts: the library's own worker entry plus a frame
// watch and the commit timeline's recorder. Since the data channels moved into the engine's
// worker, frames from the leader no longer pass the page, so the heartbeat phase times them here,
// where the engine receives them. The page talks to this worker over a BroadcastChannel named
// after the node (the Worker's port belongs to Comlink):
// - { watch: sender } starts recording arrivals from `sender`, { watch: null } ends it and gets
//   { arrivals } back (this worker's performance.now(), so only the gaps between them count);
// - { timeline: 'start' } starts the commit timeline's marks (commit-timeline-recorder.ts) and is
//   answered { timelineStarted: true }; { timeline: 'collect' } ends them and gets { marks } back.
import { exposeWorkerNode } from '../../src/worker.ts';
import { installTimelineRecorder } from './commit-timeline-recorder.ts';
import { frameWatchChannelName } from './frame-watch.ts';

const self = (globalThis as unknown as { name: string }).name;
let watched: string | null = null;
let arrivals: number[] = [];
// Installed before the node is exposed: its 'message' listener must see calls before Comlink does.
const timeline = installTimelineRecorder(self);
const watch = new BroadcastChannel(frameWatchChannelName(self));
watch.addEventListener('message', (event: MessageEvent<{ watch: string | null } | { timeline: 'start' | 'collect' }>) => {
  const data = event.data;
  if ('timeline' in data) {
    if (data.timeline === 'start') {
      timeline.start();
      watch.postMessage({ timelineStarted: true });
    } else watch.postMessage({ marks: timeline.collect() });
    return;
  }
  if (data.watch === null) watch.postMessage({ arrivals });
  watched = data.watch;
  arrivals = [];
});

exposeWorkerNode(globalThis as unknown as Parameters<typeof exposeWorkerNode>[0], {
  onFrame: (envelope) => {
    if (envelope.from === watched) arrivals.push(performance.now());
    timeline.onFrame(envelope);
  },
});
