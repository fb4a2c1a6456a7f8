// One node of the chaos campaign (e2e/chaos/): a worker node (createWorkerRaftNode, IndexedDB with
// strict durability) on the page's WebRTC transport (iceServers: []), an application that applies
// the committed stream through a ClientSessionTable (so a dedup-keyed command takes effect at most
// once), and the calls the campaign's clients and faults make through window.chaosNode. Every call
// answers with data, never a throw, so the Node runner records exactly what the page saw.
// The library's modules by name rather than through src/index.ts (which also pulls in rooms and
// the test clock): the dev server transforms fewer modules before a page (re)starts under load.
import { ClientSessionTable } from '../../../src/core/client-session-table.ts';
import { createWatchable } from '../../../src/core/observable.ts';
import { nodeId, type ClientIdentity, type Committed } from '../../../src/core/types.ts';
import { awaitRead } from '../../../src/driver/await-read.ts';
import type { RaftNode } from '../../../src/driver/node-options.ts';
import { createWebRtcTransport, createWebSocketSignalingClient, type WebRtcTransport } from '../../../src/webrtc.ts';
import { createWorkerRaftNode } from '../../../src/worker.ts';
import { faultChannelName, installNetworkFault, type FaultCommand, type FaultReply } from './network-fault.ts';
import { foldState, initialState, type AppliedState, type CommittedRecord, type StartOptions, type CallOutcome, type ReadValue, type NodeStatus } from './chaos-protocol.ts';

const pageFault = installNetworkFault();
let options: StartOptions | null = null;
let transport: WebRtcTransport | null = null;
let faults: BroadcastChannel | null = null;
let partitioned = false;
let node: RaftNode | null = null;
let worker: Worker | null = null;
/** One apply loop per node incarnation; a newer one replaces the log from index 1. */
let incarnation = 0;
let state: AppliedState = initialState;
let log: CommittedRecord[] = [];
const applied = createWatchable(0);
let nextFaultRequest = 1;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const errorOutcome = (error: unknown): CallOutcome<never> => ({
  type: 'error',
  name: error instanceof Error ? error.name : 'NonError',
  message: error instanceof Error ? error.message.slice(0, 300) : String(error).slice(0, 300),
});

function recordOf(item: Committed): CommittedRecord {
  switch (item.type) {
    case 'entry': {
      const key = item.entry.dedupKey;
      return { index: item.entry.index, term: item.entry.term, command: decoder.decode(item.entry.command), clientId: key?.clientId ?? null, requestId: key?.requestId ?? null };
    }
    case 'internal':
      return { index: item.index, term: null, command: null, clientId: null, requestId: null };
    case 'install':
      // The campaign publishes no snapshots, so nothing is ever compacted: an install is a bug.
      throw new Error(`unexpected snapshot install through ${item.snapshot.throughIndex}`);
  }
}

/** The application: replays the whole log from storage at every start, then tails it. */
async function applyLoop(started: RaftNode, mine: number): Promise<void> {
  const sessions = new ClientSessionTable();
  for await (const item of started.committedFrom(1)) {
    if (mine !== incarnation) return;
    const record = recordOf(item);
    const effective = record.command !== null && sessions.shouldApply(record.clientId === null ? undefined : { clientId: record.clientId as never, requestId: record.requestId ?? 0 });
    state = foldState(state, record, effective);
    log.push(record);
    applied.set(record.index);
  }
}

function connectFaults(self: string): BroadcastChannel {
  const channel = new BroadcastChannel(faultChannelName(self));
  channel.addEventListener('message', (event: MessageEvent<FaultReply>) => {
    // A worker that started during a partition learns it now.
    if (event.data.type === 'ready' && partitioned) channel.postMessage({ type: 'partition', partitioned: true } satisfies FaultCommand);
  });
  return channel;
}

async function start(startOptions: StartOptions): Promise<CallOutcome<{ commitIndex: number }>> {
  try {
    options = startOptions;
    const self = nodeId(startOptions.self);
    faults ??= connectFaults(startOptions.self);
    // The page's transport outlives its node (a worker restart keeps the connections, as an
    // application restarting its engine would); a new page connects anew.
    transport ??= createWebRtcTransport({
      signaling: createWebSocketSignalingClient({ url: startOptions.signalingUrl, roomId: startOptions.roomId, nodeId: self, secret: startOptions.secret }),
      secret: startOptions.secret,
      iceServers: [],
    });
    if (node !== null) await node.close().catch(() => {});
    incarnation += 1;
    const mine = incarnation;
    state = initialState;
    log = [];
    applied.set(0);
    worker = new Worker(new URL('./chaos-worker.ts', import.meta.url), { type: 'module', name: startOptions.self });
    const identity: ClientIdentity = startOptions.durableClientId === null ? { type: 'auto' } : { type: 'durable', clientId: startOptions.durableClientId as never };
    const started = await createWorkerRaftNode({
      id: self,
      clusterConfig: { voters: startOptions.voters.map((voter) => nodeId(voter)) },
      transport,
      storage: { type: 'indexeddb', name: startOptions.storageName, durability: 'strict' },
      identity,
      worker,
    });
    node = started;
    // A failed apply loop leaves this node's log short, which the checker reports; the error itself
    // reaches the runner's page log (pageerror).
    void applyLoop(started, mine).catch((error: unknown) => reportError(error));
    return { type: 'ok', value: { commitIndex: started.commitIndex.value } };
  } catch (error) {
    return errorOutcome(error);
  }
}

async function propose(command: string, requestId: number | null, timeoutMs: number): Promise<CallOutcome<{ index: number; term: number }>> {
  const current = node;
  if (current === null) return { type: 'error', name: 'NotStarted', message: 'no node on this page' };
  try {
    const signal = AbortSignal.timeout(timeoutMs);
    const entry = await current.propose(encoder.encode(command), requestId === null ? { signal } : { requestId, signal });
    return { type: 'ok', value: { index: entry.index, term: entry.term } };
  } catch (error) {
    return errorOutcome(error);
  }
}

async function read(timeoutMs: number): Promise<CallOutcome<ReadValue>> {
  const current = node;
  if (current === null) return { type: 'error', name: 'NotStarted', message: 'no node on this page' };
  try {
    const readIndex = await awaitRead(current, applied, { signal: AbortSignal.timeout(timeoutMs) });
    // Taken in the same task as the wait's end: the state at this applied index.
    return { type: 'ok', value: { readIndex, appliedIndex: state.appliedIndex, count: state.count, hash: state.hash } };
  } catch (error) {
    return errorOutcome(error);
  }
}

function status(): NodeStatus {
  const current = node;
  return {
    started: current !== null,
    role: current?.role.value ?? null,
    leader: current?.leader.value ?? null,
    term: current?.term.value ?? 0,
    commitIndex: current?.commitIndex.value ?? 0,
    appliedIndex: applied.value,
    peers: transport?.peers.value.size ?? 0,
    stopped: current?.stopped.value?.name ?? null,
  };
}

async function transferLeadership(target: string, timeoutMs: number): Promise<CallOutcome<null>> {
  const current = node;
  if (current === null) return { type: 'error', name: 'NotStarted', message: 'no node on this page' };
  try {
    await current.transferLeadership(nodeId(target), { signal: AbortSignal.timeout(timeoutMs) });
    return { type: 'ok', value: null };
  } catch (error) {
    return errorOutcome(error);
  }
}

function closeWorkerChannels(): Promise<number> {
  const channel = faults;
  if (channel === null) return Promise.resolve(0);
  const requestId = nextFaultRequest++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(-1), 5_000);
    const listener = (event: MessageEvent<FaultReply>): void => {
      if (event.data.type !== 'channelsClosed' || event.data.requestId !== requestId) return;
      clearTimeout(timer);
      channel.removeEventListener('message', listener);
      resolve(event.data.closed);
    };
    channel.addEventListener('message', listener);
    channel.postMessage({ type: 'closeChannels', requestId } satisfies FaultCommand);
  });
}

const api = {
  start,
  propose,
  read,
  status,
  transferLeadership,
  /** The node's committed sequence as its current incarnation applied it (replayed from storage). */
  committedLog: (): CommittedRecord[] => log,
  /** Ends the engine's worker behind the client's back (worker-death.spec.ts): the node stops. */
  terminateWorker(): boolean {
    if (worker === null) return false;
    worker.terminate();
    return true;
  },
  /** Closes the node in order (before a restart of the engine on this page). */
  async stopNode(): Promise<void> {
    incarnation += 1;
    const current = node;
    node = null;
    await current?.close().catch(() => {});
  },
  /** Keeps the main thread busy for `milliseconds`, starting after this call answered. */
  blockMainThread(milliseconds: number): void {
    setTimeout(() => {
      const until = performance.now() + milliseconds;
      while (performance.now() < until) {
        // busy: the page's main thread does nothing else meanwhile
      }
    }, 0);
  },
  /** Drops every binary message this page and its engine's worker send or receive. */
  setPartitioned(value: boolean): void {
    partitioned = value;
    pageFault.setPartitioned(value);
    faults?.postMessage({ type: 'partition', partitioned: value } satisfies FaultCommand);
  },
  /** Closes the data channels the engine's worker holds (and drops one connection now and then). */
  async loseChannels(alsoDisconnect: boolean): Promise<{ workerChannelsClosed: number; connectionsDropped: number }> {
    const workerChannelsClosed = await closeWorkerChannels();
    let connectionsDropped = 0;
    if (alsoDisconnect && transport !== null) {
      const first = [...transport.peers.value][0];
      if (first !== undefined) {
        transport.disconnect(first);
        connectionsDropped = 1;
      }
    }
    return { workerChannelsClosed, connectionsDropped };
  },
  transportCounters: (): Record<string, number> => (transport === null ? {} : { ...transport.counters }),
  options: (): StartOptions | null => options,
};

export type ChaosNodeApi = typeof api;

declare global {
  interface Window {
    chaosNode: ChaosNodeApi;
  }
}
window.chaosNode = api;
