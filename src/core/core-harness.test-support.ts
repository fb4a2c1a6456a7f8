// A tiny synchronous harness that drives several RaftCore instances directly, with messages as
// objects and instant persistence, so core behaviour is tested without driver, codec or timers.
import { resolveRaftConfig, type RaftConfig } from './config.ts';
import type { RaftMetric, RaftTraceEvent } from './events.ts';
import type { RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { readyNeedsWrite, type ProposalOutcome, type Ready, type ReadOutcome, type TransferOutcome } from './ready.ts';
import { nodeId, type LogEntry, type NodeId } from './types.ts';

export interface HarnessNode {
  readonly id: NodeId;
  core: RaftCore;
  /** Durable log as the driver would have written it. */
  durable: LogEntry[];
  outcomes: ProposalOutcome[];
  reads: ReadOutcome[];
  transfers: TransferOutcome[];
  /** Metrics from every ready, in order. */
  metrics: RaftMetric[];
  /** Trace events from every ready, in order: none unless the test sets `core.tracing`. */
  trace: RaftTraceEvent[];
  /** Indices of snapshots written, in order. */
  snapshots: number[];
}

export interface CoreHarness {
  readonly nodes: Map<NodeId, HarnessNode>;
  now: number;
  /** Links that drop everything: "a->b". */
  readonly blocked: Set<string>;
  /** Every message a node emitted, in order, whether or not a blocked link dropped it. */
  readonly sent: Array<{ readonly from: NodeId; readonly to: NodeId; readonly message: RaftMessage }>;
  /** Drops the messages it returns true for (finer than `blocked`: one kind of frame on a link). */
  dropWhen: ((from: NodeId, to: NodeId, message: RaftMessage) => boolean) | null;
  node(name: string): HarnessNode;
  /** Delivers messages and persistence until quiet. */
  settle(): void;
  /** Advances time in small steps, settling after each. */
  advance(ms: number): void;
  leaders(): HarnessNode[];
  isolate(name: string): void;
  heal(): void;
}

/** `witnesses`: the nodes that run with RaftConfig.witness (the others with `overrides` as given). */
export function createCoreHarness(names: readonly string[], seed = 1, initialVoters: readonly string[] = names, overrides: RaftConfig = {}, witnesses: readonly string[] = []): CoreHarness {
  const ids = names.map((name) => nodeId(name));
  const voters = initialVoters.map((name) => nodeId(name));
  const config = resolveRaftConfig(overrides);
  const witnessConfig = resolveRaftConfig({ ...overrides, witness: true });
  let state = seed;
  const random = (): number => {
    // mulberry32: enough randomness for staggered timeouts, deterministic per seed.
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const nodes = new Map<NodeId, HarnessNode>();
  const harness: CoreHarness = {
    nodes,
    now: 0,
    blocked: new Set(),
    sent: [],
    dropWhen: null,
    node: (name) => {
      const found = nodes.get(nodeId(name));
      if (found === undefined) throw new Error(`no node ${name}`);
      return found;
    },
    settle: () => {
      const queue: Array<{ from: NodeId; to: NodeId; message: RaftMessage }> = [];
      for (let round = 0; round < 10_000; round += 1) {
        let activity = false;
        for (const node of nodes.values()) {
          for (;;) {
            const ready = node.core.takeReady();
            if (ready === null) break;
            activity = true;
            for (const outbound of ready.messages) queue.push({ from: node.id, to: outbound.to, message: outbound.message });
            if (ready.truncateFrom !== null) node.durable = node.durable.filter((entry) => entry.index < (ready.truncateFrom as number));
            if (ready.snapshot !== null) {
              const through = ready.snapshot.discardLogThrough;
              node.durable = node.durable.filter((entry) => entry.index > through);
              node.snapshots.push(ready.snapshot.meta.lastIncludedIndex);
            }
            node.durable.push(...ready.entries);
            node.outcomes.push(...ready.outcomes);
            node.reads.push(...ready.reads);
            node.transfers.push(...ready.transfers);
            node.metrics.push(...ready.metrics);
            node.trace.push(...ready.trace);
            const needsWrite = readyNeedsWrite(ready);
            if (needsWrite) {
              const last = ready.entries[ready.entries.length - 1];
              node.core.persisted(harness.now, last === undefined ? null : { index: last.index, term: last.term }, ready.snapshot?.meta.lastIncludedIndex ?? 0);
            }
            for (const outbound of ready.messagesAfterPersist) queue.push({ from: node.id, to: outbound.to, message: outbound.message });
          }
        }
        while (queue.length > 0) {
          const item = queue.shift() as { from: NodeId; to: NodeId; message: RaftMessage };
          harness.sent.push(item);
          if (harness.blocked.has(`${item.from}->${item.to}`) || harness.dropWhen?.(item.from, item.to, item.message) === true) continue;
          nodes.get(item.to)?.core.receive(harness.now, item.from, item.message);
          activity = true;
        }
        if (!activity) return;
      }
      throw new Error('harness did not settle');
    },
    advance: (ms) => {
      const end = harness.now + ms;
      while (harness.now < end) {
        harness.now = Math.min(end, harness.now + 5);
        for (const node of nodes.values()) node.core.tick(harness.now);
        harness.settle();
      }
    },
    leaders: () => [...nodes.values()].filter((node) => node.core.role === 'leader'),
    isolate: (name) => {
      for (const other of ids) {
        if (other === name) continue;
        harness.blocked.add(`${name}->${other}`);
        harness.blocked.add(`${other}->${name}`);
      }
    },
    heal: () => harness.blocked.clear(),
  };
  for (const id of ids) {
    const core = new RaftCore({ id, config: witnesses.includes(id) ? witnessConfig : config, random, now: 0, bootstrap: { voters }, hardState: { term: 0, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
    nodes.set(id, { id, core, durable: [], outcomes: [], reads: [], transfers: [], metrics: [], trace: [], snapshots: [] });
  }
  return harness;
}

/** Takes one node's ready and acknowledges its write at once, as the driver would after writing it. */
export function drainReady(node: RaftCore): Ready | null {
  const ready = node.takeReady();
  if (ready !== null && readyNeedsWrite(ready)) {
    const last = ready.entries[ready.entries.length - 1];
    node.persisted(20, last === undefined ? null : { index: last.index, term: last.term });
  }
  return ready;
}
