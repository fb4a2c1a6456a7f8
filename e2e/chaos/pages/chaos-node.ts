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
/** Whether the engine's current worker installed the network fault (it holds the data channels). */
let workerFaultInstalled = false;
let node: RaftNode | null = null;
let worker: Worker | null = null;
/** One apply loop per node incarnation; a newer one replaces the log from index 1. */
let incarnation = 0;
let state: AppliedState = initialState;
let log: CommittedRecord[] = [];
/** Snapshots installed by this page's apply loops (from its own storage or from the leader). */
let installs = 0;
const applied = createWatchable(0);
let nextFaultRequest = 1;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const errorOutcome = (error: unknown): CallOutcome<never> => {
  const reason = (error as { reason?: unknown } | null)?.reason;
  return {
    type: 'error',
    name: error instanceof Error ? error.name : 'NonError',
    message: error instanceof Error ? error.message.slice(0, 300) : String(error).slice(0, 300),
    ...(typeof reason === 'string' ? { reason } : {}),
  };
};

function recordOf(item: Exclude<Committed, { type: 'install' }>): CommittedRecord {
  if (item.type === 'internal') return { index: item.index, term: null, command: null, clientId: null, requestId: null };
  const key = item.entry.dedupKey;
  return { index: item.entry.index, term: item.entry.term, command: decoder.decode(item.entry.command), clientId: key?.clientId ?? null, requestId: key?.requestId ?? null };
}

/**
 * The application's state is its whole applied sequence (a chat log, say), so a snapshot carries
 * every record through its index and an installed one leaves the node's view of the committed
 * sequence complete: the checker sees every index on every node, compaction or not. The session
 * table is rebuilt from the records, as every replica builds it from the same sequence.
 */
function snapshotOf(records: readonly CommittedRecord[]): Uint8Array {
  return encoder.encode(JSON.stringify(records));
}

function restore(bytes: Uint8Array, throughIndex: number): { records: CommittedRecord[]; sessions: ClientSessionTable; state: AppliedState } {
  const records = JSON.parse(decoder.decode(bytes)) as CommittedRecord[];
  if (records.length !== throughIndex || records.some((record, position) => record.index !== position + 1)) throw new Error(`snapshot through ${throughIndex} holds ${records.length} records that are not indexes 1..${throughIndex}`);
  const sessions = new ClientSessionTable();
  let restored = initialState;
  for (const record of records) restored = foldState(restored, record, takesEffect(sessions, record));
  return { records, sessions, state: restored };
}

const takesEffect = (sessions: ClientSessionTable, record: CommittedRecord): boolean =>
  record.command !== null && sessions.shouldApply(record.clientId === null ? undefined : { clientId: record.clientId as never, requestId: record.requestId ?? 0 });

/** The application: replays the log from storage at every start (a snapshot first, if compacted), then tails it. */
async function applyLoop(started: RaftNode, mine: number, compactEvery: number): Promise<void> {
  let sessions = new ClientSessionTable();
  let lastSnapshot = 0;
  for await (const item of started.committedFrom(1)) {
    if (mine !== incarnation) return;
    if (item.type === 'install') {
      const restored = restore(item.snapshot.state, item.snapshot.throughIndex);
      sessions = restored.sessions;
      state = restored.state;
      log = restored.records;
      installs += 1;
      lastSnapshot = item.snapshot.throughIndex;
      applied.set(item.snapshot.throughIndex);
      continue;
    }
    const record = recordOf(item);
    state = foldState(state, record, takesEffect(sessions, record));
    log.push(record);
    applied.set(record.index);
    if (compactEvery > 0 && record.index - lastSnapshot >= compactEvery) {
      lastSnapshot = record.index;
      started.publishSnapshot({ throughIndex: record.index, state: snapshotOf(log) });
    }
  }
}

function connectFaults(self: string): BroadcastChannel {
  const channel = new BroadcastChannel(faultChannelName(self));
  channel.addEventListener('message', (event: MessageEvent<FaultReply>) => {
    if (event.data.type !== 'ready') return;
    workerFaultInstalled = event.data.installed;
    // A worker that started during a partition learns it now.
    if (partitioned) channel.postMessage({ type: 'partition', partitioned: true } satisfies FaultCommand);
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
    void applyLoop(started, mine, startOptions.compactEvery).catch((error: unknown) => reportError(error));
    return { type: 'ok', value: { commitIndex: started.commitIndex.value } };
  } catch (error) {
    return errorOutcome(error);
  }
}

/** Proposes every command in this one synchronous run (a burst: one call to the worker). */
async function proposeMany(items: readonly { readonly command: string; readonly requestId: number | null }[], timeoutMs: number): Promise<CallOutcome<CallOutcome<{ index: number; term: number }>[]>> {
  const current = node;
  if (current === null) return { type: 'error', name: 'NotStarted', message: 'no node on this page' };
  const signal = AbortSignal.timeout(timeoutMs);
  const answers = items.map((item) =>
    current.propose(encoder.encode(item.command), item.requestId === null ? { signal } : { requestId: item.requestId, signal }).then(
      (entry): CallOutcome<{ index: number; term: number }> => ({ type: 'ok', value: { index: entry.index, term: entry.term } }),
      (error: unknown) => errorOutcome(error),
    ),
  );
  return { type: 'ok', value: await Promise.all(answers) };
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
    workerFaultInstalled,
    compactionFloor: current?.compactionFloor.value ?? 0,
    installs,
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
  proposeMany,
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
