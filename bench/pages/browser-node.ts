// The page side of bench/browser.ts: one Raft node per Chromium process, its engine and
// IndexedDB storage (strict) in a worker, the WebRTC transport on this page meeting the other two
// pages through the bench's signaling server. Node drives the phases through window.browserBench.
import { createRaftNode, nodeId, type IndexedDbDurability, type IndexedDbRaftStorage, type NodeId, type RaftNode } from '../../src/index.ts';
import { createWebRtcTransport, createWebSocketSignalingClient, type WebRtcTransport } from '../../src/webrtc.ts';
import { createWorkerRaftNode } from '../../src/worker.ts';
import { createLoad, holdLoads, releaseLoads, stopLoads, type LoadOptions, type LoadResult } from './browser-load.ts';
import { commitSplit, diagnosticsApi, openTimedStorage, recordTransitions } from './browser-diagnostics.ts';
import { collectWorkerTimeline, startWorkerTimeline, timelineCommits } from './commit-timeline-page.ts';
import { rawApi } from './browser-raw.ts';
import { frameWatchChannelName } from './frame-watch.ts';

export interface StartOptions {
  readonly signalingUrl: string;
  readonly roomId: string;
  readonly secret: string;
  readonly self: string;
  readonly voters: readonly string[];
  readonly storageName: string;
  /** Each node compacts its own log: a snapshot every this many applied entries. */
  readonly compactEvery: number;
  /** Where the engine runs (the benchmark: a worker; the diagnostic driver may compare the page). */
  readonly engine?: 'worker' | 'page';
  /** IndexedDB durability (the benchmark: strict). */
  readonly durability?: IndexedDbDurability;
  /** Raft settings other than the defaults (the benchmark: none; the diagnostic driver compares). */
  readonly raftConfig?: { readonly maxInflightMessages?: number; readonly snapshotBytesPerSecond?: number };
}

export interface NodeStatus {
  readonly role: string;
  readonly leader: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly compactionFloor: number;
  readonly appliedIndex: number;
  readonly peers: number;
  /** Snapshots this page's nodes installed, over all its starts (the snapshot phase checks one came). */
  readonly installs: number;
}

let transport: WebRtcTransport | null = null;
let node: RaftNode | null = null;
/** The storage this page opened for a node with the engine on the page (none with a worker). */
let pageStorage: IndexedDbRaftStorage | null = null;
let appliedIndex = 0;
let installs = 0;
let snapshotBytes = 64;
let compactEvery = 10_000;
let lastCompaction = 0;
/**
 * Arrival times of frames from `watchedSender` while recording (the heartbeat phase), with the
 * engine on the page; with the engine in a worker, frames arrive there (browser-node-worker.ts).
 */
let watchedSender: NodeId | null = null;
let arrivals: number[] = [];
let workerFrameWatch: BroadcastChannel | null = null;
let failover: { controller: AbortController; result: { atMs: number; term: number } | null } | null = null;

function running(): RaftNode {
  if (node === null) throw new Error('node not started');
  return node;
}

function openTransport(options: StartOptions, self: NodeId): WebRtcTransport {
  const signaling = createWebSocketSignalingClient({ url: options.signalingUrl, roomId: options.roomId, nodeId: self, secret: options.secret });
  const opened = createWebRtcTransport({ signaling, secret: options.secret, iceServers: [] });
  opened.incoming.subscribe((envelope) => {
    if (envelope.from === watchedSender) arrivals.push(performance.now());
  });
  return opened;
}

/** The application's apply loop: counts entries and compacts, as an app with snapshots would. */
async function applyLoop(started: RaftNode): Promise<void> {
  for await (const item of started.committed()) {
    appliedIndex = item.type === 'install' ? item.snapshot.throughIndex : item.type === 'entry' ? item.entry.index : item.index;
    if (item.type === 'install') installs += 1;
    if (appliedIndex - lastCompaction >= compactEvery) publish(started);
  }
}

function publish(started: RaftNode): void {
  lastCompaction = appliedIndex;
  const state = new Uint8Array(snapshotBytes);
  new DataView(state.buffer).setFloat64(0, appliedIndex);
  started.publishSnapshot({ throughIndex: appliedIndex, state });
}

const api = {
  async start(options: StartOptions): Promise<void> {
    compactEvery = options.compactEvery;
    const self = nodeId(options.self);
    // A node started again on this page (the snapshot phase's lagging follower) keeps the page's
    // transport and its connections, as an application restarting its engine would; only a new
    // page (failover) connects anew.
    transport ??= openTransport(options, self);
    const clusterConfig = { voters: options.voters.map((voter) => nodeId(voter)) };
    const durability = options.durability ?? 'strict';
    const raftConfig = options.raftConfig ?? {};
    // With the engine on the page this page owns the storage: a node does not close what it was
    // handed, and the database stays locked to its one live owner until closed (stopNode).
    pageStorage = options.engine === 'page' ? await openTimedStorage(options.storageName, durability) : null;
    const started =
      pageStorage !== null
        ? await createRaftNode({ id: self, clusterConfig, transport, storage: pageStorage, raftConfig })
        : await createWorkerRaftNode({
            id: self,
            clusterConfig,
            transport,
            storage: { type: 'indexeddb', name: options.storageName, durability },
            raftConfig,
            worker: new Worker(new URL('./browser-node-worker.ts', import.meta.url), { type: 'module', name: options.self }),
          });
    workerFrameWatch ??= options.engine === 'page' ? null : new BroadcastChannel(frameWatchChannelName(options.self));
    node = started;
    recordTransitions(started, options.self);
    appliedIndex = started.commitIndex.value;
    lastCompaction = appliedIndex;
    void applyLoop(started).catch(() => {});
  },
  /** Closes the node (worker and storage) but keeps the page: a follower that falls behind. */
  async stopNode(): Promise<void> {
    await node?.close();
    node = null;
    pageStorage?.close();
    pageStorage = null;
  },
  /** The WebRTC transport's counters: frames sent, received and dropped (by reason). */
  transportCounters(): Record<string, number> {
    return transport === null ? {} : { ...transport.counters };
  },
  status(): NodeStatus {
    const current = running();
    return {
      role: current.role.value,
      leader: current.leader.value,
      term: current.term.value,
      commitIndex: current.commitIndex.value,
      compactionFloor: current.compactionFloor.value,
      appliedIndex,
      peers: transport?.peers.value.size ?? 0,
      installs,
    };
  },
  /** Publishes a snapshot of `bytes` now (and uses that size for later compactions). */
  snapshotNow(bytes: number): number {
    snapshotBytes = bytes;
    publish(running());
    return appliedIndex;
  },
  /**
   * Compacts now, through everything this page has applied, with the snapshot size in use: the
   * memory phase reads every process right after this, at the same point of the compaction cycle.
   */
  compactNow(): number {
    publish(running());
    return appliedIndex;
  },
  setSnapshotBytes(bytes: number): void {
    snapshotBytes = bytes;
  },
  load(options: LoadOptions): Promise<LoadResult> {
    return createLoad(running(), options).finished;
  },
  stopLoads,
  holdLoads,
  releaseLoads,
  /**
   * Starts timing frames from `sender` (the leader) as they reach the engine (its worker, or this
   * page's transport with the engine on the page); null ends it and returns the arrival times.
   */
  async watchFrames(sender: string | null): Promise<number[]> {
    const recorded = arrivals;
    watchedSender = sender === null ? null : nodeId(sender);
    arrivals = [];
    const watch = workerFrameWatch;
    if (watch === null) return recorded;
    const reply =
      sender === null
        ? new Promise<number[]>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('the engine worker did not answer the frame watch within 10 s')), 10_000);
            watch.addEventListener(
              'message',
              (event: MessageEvent<{ arrivals: number[] }>) => {
                clearTimeout(timer);
                resolve(event.data.arrivals);
              },
              { once: true },
            );
          })
        : Promise.resolve([]);
    watch.postMessage({ watch: sender });
    return reply;
  },
  /**
   * Failover, armed on the surviving pages before the leader's page closes: once this node leads,
   * it proposes, and the wall-clock time (timeOrigin + now, comparable across processes) of that
   * first commit is kept for failoverResult.
   */
  armFailover(): void {
    const current = running();
    const controller = new AbortController();
    failover = { controller, result: null };
    const armed = failover;
    void (async () => {
      while (!controller.signal.aborted) {
        try {
          await current.awaitLeadership({ signal: controller.signal });
          await current.propose(new Uint8Array(100).fill(9), { signal: controller.signal });
          armed.result = { atMs: performance.timeOrigin + performance.now(), term: current.term.value };
          return;
        } catch {
          // Lost leadership before the commit, or disarmed: wait again or stop.
        }
      }
    })();
  },
  failoverResult(): { atMs: number; term: number } | null {
    const result = failover?.result ?? null;
    if (result !== null) failover?.controller.abort();
    return result;
  },
  disarmFailover(): void {
    failover?.controller.abort();
    failover = null;
  },
  wallClockMs: (): number => performance.timeOrigin + performance.now(),
  /** Light-load commits one at a time, split by the leader's trace (browser-diagnostics.ts). */
  commitSplit: (count: number) => commitSplit(running(), count),
  /** The commit timeline (bench:browser-diagnose --timeline, commit-timeline-page.ts). */
  timelineStart: () => startWorkerTimeline(workerFrameWatch),
  timelineCommits: (count: number, pauseMs: number) => timelineCommits(running(), count, pauseMs),
  timelineCollect: () => collectWorkerTimeline(workerFrameWatch),
  ...rawApi,
  ...diagnosticsApi,
};

declare global {
  interface Window {
    browserBench: typeof api;
  }
}
window.browserBench = api;
