// A core-level random cluster for the replication/elections review: asynchronous writes that land
// in order, crashes that lose the writes in flight, a network that drops, duplicates, delays and
// reorders, partitions, and safety checks after every step. No snapshots, no membership changes.
import { resolveRaftConfig, type RaftConfig } from '../core/config.ts';
import type { RaftMessage } from '../core/messages.ts';
import { RaftCore } from '../core/raft-core.ts';
import { readyNeedsWrite, type Ready } from '../core/ready.ts';
import { nodeId, type LogEntry, type NodeId } from '../core/types.ts';

interface Durable {
  term: number;
  votedFor: NodeId | null;
  pin: { term: number; leaderId: NodeId } | null;
  log: LogEntry[];
  commitIndex: number;
}

interface PendingWrite {
  ready: Ready;
  after: Array<{ to: NodeId; message: RaftMessage }>;
}

interface FuzzNode {
  id: NodeId;
  core: RaftCore;
  durable: Durable;
  writes: PendingWrite[];
  /** Messages waiting for the writes pending when their ready was taken, with no write of their own. */
  up: boolean;
}

interface Flight {
  from: NodeId;
  to: NodeId;
  message: RaftMessage;
  deliverAt: number;
  /** For an appendEntries success: the sender's durable log terms when it went on the wire. */
  durableTerms?: number[];
}

export interface FuzzOptions {
  seed: number;
  nodes?: number;
  steps?: number;
  config?: RaftConfig;
  crashes?: boolean;
  partitions?: boolean;
  dropRate?: number;
  writeRate?: number;
  maxDelay?: number;
  crashRate?: number;
  witnesses?: number;
}

export interface FuzzResult {
  violations: string[];
  leaderAtEnd: boolean;
  converged: boolean;
  summary: string;
}

function mulberry(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

export function runFuzz(options: FuzzOptions): FuzzResult {
  const random = mulberry(options.seed);
  const count = options.nodes ?? 3;
  const ids = Array.from({ length: count }, (_, index) => nodeId(`n${index + 1}`));
  const config = resolveRaftConfig(options.config ?? {});
  const witnessConfig = resolveRaftConfig({ ...(options.config ?? {}), witness: true });
  const witnessCount = options.witnesses ?? 0;
  const violations: string[] = [];
  const leaderOfTerm = new Map<number, NodeId>();
  const committed = new Map<number, number>();
  const nodes = new Map<NodeId, FuzzNode>();
  let network: Flight[] = [];
  const cut = new Set<string>();
  let now = 0;
  let proposals = 0;
  const dropRate = options.dropRate ?? 0.05;

  const makeCore = (id: NodeId, durable: Durable): RaftCore =>
    new RaftCore({ id, config: ids.indexOf(id) >= count - witnessCount ? witnessConfig : config, random, now, bootstrap: { voters: ids }, hardState: { term: durable.term, votedFor: durable.votedFor }, leaderPin: durable.pin, snapshotMeta: null, entries: durable.log.slice(), commitIndex: durable.commitIndex });

  for (const id of ids) {
    const durable: Durable = { term: 0, votedFor: null, pin: null, log: [], commitIndex: 0 };
    nodes.set(id, { id, core: makeCore(id, durable), durable, writes: [], up: true });
  }

  const violate = (text: string): void => {
    if (violations.length < 20) violations.push(`seed ${options.seed} t=${now}: ${text}`);
  };

  const put = (from: FuzzNode, to: NodeId, message: RaftMessage): void => {
    const flight: Flight = { from: from.id, to, message, deliverAt: now + 1 + Math.floor(random() * (options.maxDelay ?? 15)) };
    if (message.type === 'appendEntriesResponse' && message.success) {
      const terms = from.durable.log.map((entry) => entry.term);
      if (message.matchIndex > terms.length) violate(`${from.id} acknowledged ${message.matchIndex} to ${to} in term ${message.term} with ${terms.length} entries on disk`);
      flight.durableTerms = terms;
    }
    if (message.type === 'requestVoteResponse' && message.granted && !message.preVote) {
      const hard = from.durable;
      if (hard.term < message.term || (hard.term === message.term && hard.votedFor !== to)) violate(`${from.id} granted its vote in term ${message.term} to ${to} with ${JSON.stringify({ term: hard.term, votedFor: hard.votedFor })} on disk`);
    }
    network.push(flight);
    if (random() < 0.02) network.push({ ...flight, deliverAt: flight.deliverAt + Math.floor(random() * 40) });
  };

  const takeReadies = (node: FuzzNode): void => {
    for (;;) {
      const ready = node.core.takeReady();
      if (ready === null) return;
      for (const outbound of ready.messages) put(node, outbound.to, outbound.message);
      const after = ready.messagesAfterPersist.map((outbound) => ({ to: outbound.to, message: outbound.message }));
      if (readyNeedsWrite(ready)) {
        node.writes.push({ ready, after });
      } else if (after.length > 0) {
        const last = node.writes[node.writes.length - 1];
        if (last === undefined) for (const item of after) put(node, item.to, item.message);
        else last.after.push(...after);
      }
    }
  };

  const completeWrite = (node: FuzzNode): void => {
    const write = node.writes.shift();
    if (write === undefined) return;
    const { ready } = write;
    const durable = node.durable;
    if (ready.hardState !== null) {
      durable.term = ready.hardState.term;
      durable.votedFor = ready.hardState.votedFor;
    }
    if (ready.leaderForTerm !== null) durable.pin = { ...ready.leaderForTerm };
    if (ready.truncateFrom !== null) durable.log = durable.log.filter((entry) => entry.index < (ready.truncateFrom as number));
    for (const entry of ready.entries) {
      if (entry.index !== durable.log.length + 1) violate(`${node.id} writes entry ${entry.index} after ${durable.log.length}`);
      durable.log.push(entry);
    }
    if (ready.commitIndex !== null) {
      if (ready.commitIndex > durable.log.length) violate(`${node.id} stores commit ${ready.commitIndex} beyond its log ${durable.log.length}`);
      durable.commitIndex = ready.commitIndex;
    }
    const last = ready.entries[ready.entries.length - 1];
    node.core.persisted(now, last === undefined ? null : { index: last.index, term: last.term });
    for (const item of write.after) put(node, item.to, item.message);
    takeReadies(node);
  };

  const crash = (node: FuzzNode): void => {
    // Writes land in order: a random prefix of those in flight lands, the rest is lost.
    const landing = Math.floor(random() * (node.writes.length + 1));
    for (let index = 0; index < landing; index += 1) {
      const write = node.writes.shift() as PendingWrite;
      node.writes.unshift(write);
      // Apply without telling the (dying) core.
      const { ready } = write;
      node.writes.shift();
      const durable = node.durable;
      if (ready.hardState !== null) {
        durable.term = ready.hardState.term;
        durable.votedFor = ready.hardState.votedFor;
      }
      if (ready.leaderForTerm !== null) durable.pin = { ...ready.leaderForTerm };
      if (ready.truncateFrom !== null) durable.log = durable.log.filter((entry) => entry.index < (ready.truncateFrom as number));
      durable.log.push(...ready.entries);
      if (ready.commitIndex !== null) durable.commitIndex = ready.commitIndex;
    }
    node.writes = [];
    node.up = false;
  };

  const restart = (node: FuzzNode): void => {
    node.core = makeCore(node.id, node.durable);
    node.up = true;
    takeReadies(node);
  };

  const check = (): void => {
    for (const node of nodes.values()) {
      if (!node.up) continue;
      const core = node.core;
      if (core.role === 'leader') {
        const known = leaderOfTerm.get(core.term);
        if (known === undefined) leaderOfTerm.set(core.term, node.id);
        else if (known !== node.id) violate(`two leaders in term ${core.term}: ${known} and ${node.id}`);
      }
      for (let index = 1; index <= core.commitIndex; index += 1) {
        const term = core.termAt(index);
        if (term === undefined) {
          violate(`${node.id} commit ${core.commitIndex} beyond its log ${core.lastIndex}`);
          break;
        }
        const known = committed.get(index);
        if (known === undefined) committed.set(index, term);
        else if (known !== term) violate(`committed entry ${index} was term ${known}, ${node.id} has term ${term}`);
      }
    }
  };

  const deliver = (flight: Flight): void => {
    const node = nodes.get(flight.to);
    if (node === undefined || !node.up) return;
    if (cut.has(`${flight.from}->${flight.to}`)) return;
    const message = flight.message;
    if (message.type === 'appendEntriesResponse' && message.success && flight.durableTerms !== undefined) {
      const core = node.core;
      if (core.role === 'leader' && core.term === message.term) {
        const upTo = Math.min(message.matchIndex, core.lastIndex);
        for (let index = 1; index <= upTo; index += 1) {
          if (flight.durableTerms[index - 1] !== core.termAt(index)) {
            violate(`${flight.from}'s acknowledgement through ${message.matchIndex} (term ${message.term}) disagrees with leader ${node.id} at ${index}: disk ${flight.durableTerms[index - 1]}, leader ${core.termAt(index)}`);
            break;
          }
        }
      }
    }
    node.core.receive(now, flight.from, message);
    takeReadies(node);
  };

  const steps = options.steps ?? 6000;
  const faultsUntil = Math.floor(steps * 0.6);
  for (let step = 0; step < steps; step += 1) {
    const faulty = step < faultsUntil;
    now += 1;
    // Writes land.
    for (const node of nodes.values()) {
      if (node.up && node.writes.length > 0 && random() < (options.writeRate ?? 0.35)) completeWrite(node);
    }
    // Deliveries due.
    const due = network.filter((flight) => flight.deliverAt <= now);
    network = network.filter((flight) => flight.deliverAt > now);
    // Reorder among the due.
    for (let index = due.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [due[index], due[other]] = [due[other] as Flight, due[index] as Flight];
    }
    for (const flight of due) {
      if (faulty && random() < dropRate) continue;
      deliver(flight);
    }
    for (const node of nodes.values()) {
      if (!node.up) continue;
      if (now >= node.core.nextDeadline()) node.core.tick(now);
      takeReadies(node);
    }
    if (faulty) {
      if (random() < 0.03) {
        const leader = [...nodes.values()].find((node) => node.up && node.core.role === 'leader');
        if (leader !== undefined) {
          proposals += 1;
          leader.core.propose(now, proposals, new Uint8Array([proposals & 0xff]), null);
          takeReadies(leader);
        }
      }
      if (options.crashes !== false && random() < (options.crashRate ?? 0.002)) {
        const victim = ids[Math.floor(random() * ids.length)] as NodeId;
        const node = nodes.get(victim) as FuzzNode;
        if (node.up) crash(node);
      }
      for (const node of nodes.values()) if (!node.up && random() < 0.01) restart(node);
      if (options.partitions !== false && random() < 0.003) {
        cut.clear();
        const isolated = ids[Math.floor(random() * ids.length)] as NodeId;
        for (const other of ids) {
          if (other === isolated) continue;
          if (random() < 0.8) cut.add(`${isolated}->${other}`);
          if (random() < 0.8) cut.add(`${other}->${isolated}`);
        }
      }
      if (random() < 0.004) cut.clear();
    } else if (step === faultsUntil) {
      cut.clear();
      for (const node of nodes.values()) if (!node.up) restart(node);
    } else if (random() < 0.03) {
      const leader = [...nodes.values()].find((node) => node.up && node.core.role === 'leader');
      if (leader !== undefined) {
        proposals += 1;
        leader.core.propose(now, proposals, new Uint8Array([proposals & 0xff]), null);
        takeReadies(leader);
      }
    }
    check();
  }
  // Quiet tail: writes land, messages arrive.
  for (let step = 0; step < 3000; step += 1) {
    now += 1;
    for (const node of nodes.values()) while (node.writes.length > 0) completeWrite(node);
    const due = network.filter((flight) => flight.deliverAt <= now);
    network = network.filter((flight) => flight.deliverAt > now);
    for (const flight of due) deliver(flight);
    for (const node of nodes.values()) {
      if (now >= node.core.nextDeadline()) node.core.tick(now);
      takeReadies(node);
    }
    check();
  }
  const leaders = [...nodes.values()].filter((node) => node.core.role === 'leader');
  const leader = leaders[0];
  const converged = leader !== undefined && [...nodes.values()].every((node) => node.core.lastIndex === leader.core.lastIndex && node.core.commitIndex === leader.core.lastIndex);
  const summary = [...nodes.values()].map((node) => `${node.id}:${node.core.role}@${node.core.term} last ${node.core.lastIndex} commit ${node.core.commitIndex}`).join(', ');
  return { violations, leaderAtEnd: leaders.length === 1, converged, summary };
}
