import {
  createRaftNode, InMemoryRaftStorage, nodeId, type NodeId, type RaftNode, type RaftConfig,
  type RaftMetric, type RaftTraceEvent, type ClusterConfig, type ClientIdentity, type RaftStorage,
} from '../../index.ts';
import { VirtualClock, createSimulatedNetwork, seededRandom, type SimulatedNetwork } from '../../testing/index.ts';

/** A call's outcome after settle: undefined when it did not settle in time. */
export type Settled<T> = { ok: true; value: T; error?: undefined } | { ok: false; value?: undefined; error: unknown } | undefined;

/** The events (trace or metrics) of one type, narrowed to that type. */
export function ofType<E extends { readonly type: string }, K extends E['type']>(events: readonly E[], type: K): Array<Extract<E, { type: K }>> {
  return events.filter((event): event is Extract<E, { type: K }> => event.type === type);
}

export interface Harness {
  clock: VirtualClock;
  net: SimulatedNetwork;
  ids: NodeId[];
  nodes: Map<NodeId, RaftNode>;
  storages: Map<NodeId, RaftStorage>;
  metrics: Map<NodeId, RaftMetric[]>;
  traces: Map<NodeId, RaftTraceEvent[]>;
  start(id: NodeId, opts?: { config?: ClusterConfig; identity?: ClientIdentity | undefined; raftConfig?: RaftConfig; seed?: number }): Promise<RaftNode>;
  stop(id: NodeId): Promise<void>;
  node(id: string): RaftNode;
  leader(): RaftNode | null;
  waitLeader(timeout?: number): Promise<RaftNode>;
  settle<T>(p: Promise<T>, timeout?: number): Promise<Settled<T>>;
  closeAll(): Promise<void>;
}

export async function harness(names: string[], opts: { seed?: number; voters?: string[]; learners?: string[]; raftConfig?: RaftConfig; startAll?: boolean } = {}): Promise<Harness> {
  const clock = new VirtualClock(0, { drain: 'promiseContinuations' });
  const seed = opts.seed ?? 7;
  let seedCounter = 1;
  const net = createSimulatedNetwork(clock, seededRandom(seed), { minDelayMs: 1, maxDelayMs: 3, dropProbability: 0, duplicateProbability: 0 });
  const ids = names.map(nodeId);
  const voters = (opts.voters ?? names).map(nodeId);
  const learners = (opts.learners ?? []).map(nodeId);
  const bootstrap: ClusterConfig = learners.length ? { voters, learners } : { voters };
  const nodes = new Map<NodeId, RaftNode>();
  const storages = new Map<NodeId, RaftStorage>();
  const metrics = new Map<NodeId, RaftMetric[]>();
  const traces = new Map<NodeId, RaftTraceEvent[]>();
  const transports = new Map<NodeId, ReturnType<SimulatedNetwork['transport']>>();
  const h: Harness = {
    clock, net, ids, nodes, storages, metrics, traces,
    async start(id, o = {}) {
      if (!storages.has(id)) storages.set(id, new InMemoryRaftStorage());
      if (!transports.has(id)) transports.set(id, net.transport(id));
      net.setDown(id, false);
      const m: RaftMetric[] = metrics.get(id) ?? [];
      metrics.set(id, m);
      const p = createRaftNode({
        id, clusterConfig: o.config ?? bootstrap, transport: transports.get(id)!, storage: storages.get(id)!,
        raftConfig: { clock, random: seededRandom(o.seed ?? seed * 100 + seedCounter++), ...(opts.raftConfig ?? {}), ...(o.raftConfig ?? {}) },
        ...(o.identity === undefined ? {} : { identity: o.identity }), onMetric: (x) => m.push(x),
      });
      let node: RaftNode | undefined;
      void p.then((n) => (node = n));
      await clock.runUntil(() => node !== undefined, 1000);
      if (!node) node = await p;
      nodes.set(id, node);
      const t: RaftTraceEvent[] = traces.get(id) ?? [];
      traces.set(id, t);
      node.trace.subscribe((e) => t.push(e));
      return node;
    },
    async stop(id) {
      const n = nodes.get(id);
      net.setDown(id, true);
      if (n) {
        const p = n.close();
        await clock.runUntil(() => false, 10).catch(() => {});
        await p;
      }
      nodes.delete(id);
    },
    node(id) { const n = nodes.get(id as NodeId); if (!n) throw new Error('no node ' + id); return n; },
    leader() {
      const ls = [...nodes.values()].filter((n) => n.role.value === 'leader');
      if (ls.length === 0) return null;
      ls.sort((a, b) => b.term.value - a.term.value);
      return ls[0]!;
    },
    async waitLeader(timeout = 5000) {
      const ok = await clock.runUntil(() => h.leader() !== null, timeout);
      if (!ok) throw new Error('no leader');
      return h.leader()!;
    },
    async settle<T>(p: Promise<T>, timeout = 5000): Promise<Settled<T>> {
      let r: Settled<T> = undefined;
      p.then((value) => (r = { ok: true, value }), (error: unknown) => (r = { ok: false, error }));
      await clock.runUntil(() => r !== undefined, timeout);
      return r;
    },
    async closeAll() {
      const ps = [...nodes.values()].map((n) => n.close().catch(() => {}));
      await clock.advance(50);
      await Promise.all(ps);
    },
  };
  if (opts.startAll !== false) for (const id of ids) await h.start(id);
  return h;
}

export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Collects from an async iterable in the background. */
export function collect<T>(it: AsyncIterable<T>): { items: T[]; stop: () => void } {
  const items: T[] = [];
  let stopped = false;
  const iter = it[Symbol.asyncIterator]();
  (async () => {
    while (!stopped) {
      const r = await iter.next().catch(() => ({ done: true, value: undefined }));
      if (r.done) return;
      items.push(r.value as T);
    }
  })();
  return { items, stop: () => { stopped = true; void iter.return?.(); } };
}
