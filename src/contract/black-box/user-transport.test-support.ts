// A user-written transport (API.md "Storage and transport": RaftTransport) on a VirtualClock, with
// cuttable links and raw frame injection. Nothing here comes from the library but the types.
import {
  createRaftNode, InMemoryRaftStorage, nodeId, seededRandom, VirtualClock,
  type NodeId, type RaftConfig, type RaftEnvelope, type RaftMetric, type RaftNode, type RaftNodeOptions,
  type RaftStorage, type RaftTraceEvent, type RaftTransport, type Subscribable, type Watchable,
} from '../../index.ts';

export function emitter<T>() {
  const ls = new Set<(v: T) => void>();
  const sub: Subscribable<T> = { subscribe(l) { ls.add(l); return () => { ls.delete(l); }; } };
  return { sub, emit(v: T) { for (const l of [...ls]) l(v); } };
}
export function watchable<T>(initial: T) {
  let value = initial;
  const e = emitter<T>();
  const w: Watchable<T> = { get value() { return value; }, subscribe: e.sub.subscribe };
  return { w, set(v: T) { value = v; e.emit(v); } };
}

export class Net {
  readonly transports = new Map<NodeId, { t: RaftTransport; incoming: ReturnType<typeof emitter<RaftEnvelope>>; peers: ReturnType<typeof watchable<ReadonlySet<NodeId>>> }>();
  readonly cut = new Set<string>(); // 'a>b'
  /** frames observed: from, to, bytes */
  readonly sent: { from: NodeId; to: NodeId; bytes: Uint8Array }[] = [];
  tap: ((from: NodeId, to: NodeId, bytes: Uint8Array) => boolean) | null = null; // return false to drop
  constructor(readonly clock: VirtualClock, readonly latencyMs = 1) {}
  transport(id: NodeId, maxPayloadBytes?: number): RaftTransport {
    const incoming = emitter<RaftEnvelope>();
    const peers = watchable<ReadonlySet<NodeId>>(new Set());
    const t: RaftTransport = {
      selfId: id,
      peers: peers.w,
      incoming: incoming.sub,
      send: (to, bytes) => {
        const copy = bytes.slice();
        this.sent.push({ from: id, to, bytes: copy });
        if (this.cut.has(`${id}>${to}`)) return;
        if (this.tap && !this.tap(id, to, copy)) return;
        this.clock.setTimeout(() => {
          if (this.cut.has(`${id}>${to}`)) return;
          this.transports.get(to)?.incoming.emit({ from: id, bytes: copy });
        }, this.latencyMs);
      },
      ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
    };
    this.transports.set(id, { t, incoming, peers });
    this.refreshPeers();
    return t;
  }
  refreshPeers() {
    for (const [id, x] of this.transports) {
      x.peers.set(new Set([...this.transports.keys()].filter((p) => p !== id && !this.cut.has(`${id}>${p}`))));
    }
  }
  isolate(id: NodeId) {
    for (const p of this.transports.keys()) if (p !== id) { this.cut.add(`${id}>${p}`); this.cut.add(`${p}>${id}`); }
    this.refreshPeers();
  }
  heal() { this.cut.clear(); this.refreshPeers(); }
  inject(from: NodeId, to: NodeId, bytes: Uint8Array) { this.transports.get(to)!.incoming.emit({ from, bytes }); }
}

export interface Harness {
  clock: VirtualClock; net: Net; nodes: Map<NodeId, RaftNode>; traces: RaftTraceEvent[]; traceAt: number[]; metrics: { node: NodeId; m: RaftMetric }[];
  start(id: NodeId, opts?: Partial<RaftNodeOptions> & { raftConfig?: RaftConfig; storage?: RaftStorage; maxPayloadBytes?: number }): Promise<RaftNode>;
  leader(): RaftNode | undefined;
  until(pred: () => boolean, ms?: number): Promise<void>;
  run<T>(p: Promise<T>, ms?: number): Promise<T>;
  closeAll(): Promise<void>;
}

export function harness(ids: string[], seed = 1): Harness {
  const clock = new VirtualClock(0, { drain: 'promiseContinuations' });
  const net = new Net(clock);
  const voters = ids.map(nodeId);
  const h: Harness = {
    clock, net, nodes: new Map(), traces: [], traceAt: [], metrics: [],
    async start(id, opts = {}) {
      const { maxPayloadBytes, ...rest } = opts;
      const node = await createRaftNode({
        id, clusterConfig: { voters }, transport: net.transport(id, maxPayloadBytes), storage: new InMemoryRaftStorage(),
        onMetric: (m) => h.metrics.push({ node: id, m }),
        ...rest,
        raftConfig: { clock, random: seededRandom(seed * 100 + h.nodes.size + 1), ...(opts.raftConfig ?? {}) },
      });
      node.trace.subscribe((e) => { h.traces.push(e); h.traceAt.push(clock.now()); });
      h.nodes.set(id, node);
      return node;
    },
    leader() { return [...h.nodes.values()].find((n) => n.role.value === 'leader'); },
    async until(pred, ms = 10_000) {
      if (!(await clock.runUntil(pred, ms))) throw new Error(`condition not met within ${ms} virtual ms`);
    },
    async run(p, ms = 10_000) {
      let done = false; let value: unknown; let error: unknown; let failed = false;
      p.then((v) => { done = true; value = v; }, (e) => { done = true; failed = true; error = e; });
      await h.until(() => done, ms);
      if (failed) throw error;
      return value as never;
    },
    async closeAll() {
      const all = Promise.all([...h.nodes.values()].map((n) => n.close()));
      await h.run(all, 5_000);
    },
  };
  return h;
}
export { enc } from './harness.test-support.ts';
