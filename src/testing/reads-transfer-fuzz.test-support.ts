// The reads-and-transfer fuzz's cluster (reads-transfer-fuzz.test.ts; first written by a review,
// 2026-12-06): a core-level cluster with a delaying, reordering, lossy network,
// crashes and restarts from durable state, and checkers for election safety, committed-entry
// agreement and read-index freshness (a read must return at least every index any node knew
// committed before the read began).
import { resolveRaftConfig, type RaftConfig } from '../core/config.ts';
import type { RaftMessage } from '../core/messages.ts';
import { RaftCore } from '../core/raft-core.ts';
import { readyNeedsWrite } from '../core/ready.ts';
import { seededRandom } from './seeded-random.ts';
import { nodeId, type ClusterConfig, type LogEntry, type NodeId, type SnapshotMeta } from '../core/types.ts';

interface Durable {
  hardState: { term: number; votedFor: NodeId | null };
  pin: { term: number; leaderId: NodeId } | null;
  entries: LogEntry[];
  commitIndex: number;
  snapshot: { meta: SnapshotMeta; state: Uint8Array } | null;
}

export interface FuzzNode {
  readonly id: NodeId;
  core: RaftCore | null;
  durable: Durable;
  witness: boolean;
}

interface InFlight {
  at: number;
  seq: number;
  from: NodeId;
  to: NodeId;
  message: RaftMessage;
}

export interface Violation {
  readonly kind: string;
  readonly detail: string;
}

export class FuzzCluster {
  now = 0;
  readonly nodes = new Map<NodeId, FuzzNode>();
  readonly ids: NodeId[];
  private queue: InFlight[] = [];
  private seq = 0;
  readonly blocked = new Set<string>();
  dropProbability = 0;
  duplicateProbability = 0;
  minDelay = 1;
  maxDelay = 10;
  readonly leaderOfTerm = new Map<number, NodeId>();
  readonly committedTerm = new Map<number, number>();
  /** Highest index any node has ever known committed. */
  maxKnownCommit = 0;
  readonly violations: Violation[] = [];
  readonly readFloor = new Map<string, number>();
  readonly readsDone: Array<{ node: NodeId; readId: number; readIndex: number; floor: number }> = [];
  readonly log: string[] = [];
  private readonly random: () => number;
  private readonly config;
  trace = false;
  transferOutcomes: Array<{ node: NodeId; transferId: number; failure: string | null; at: number }> = [];
  membershipOutcomes: Array<{ node: NodeId; changeId: number; failure: string | null; at: number }> = [];
  acknowledged: Array<{ index: number; term: number }> = [];

  constructor(names: readonly string[], readonly bootstrap: ClusterConfig, seed: number, overrides: RaftConfig = {}, witnesses: readonly string[] = []) {
    this.ids = names.map((name) => nodeId(name));
    this.random = seededRandom(seed * 7 + 1);
    this.config = overrides;
    for (const id of this.ids) {
      const node: FuzzNode = { id, core: null, durable: { hardState: { term: 0, votedFor: null }, pin: null, entries: [], commitIndex: 0, snapshot: null }, witness: witnesses.includes(id) };
      this.nodes.set(id, node);
      this.boot(node);
    }
  }

  rand(): number {
    return this.random();
  }

  private boot(node: FuzzNode): void {
    const d = node.durable;
    const config = resolveRaftConfig({ ...this.config, witness: node.witness });
    node.core = new RaftCore({
      id: node.id,
      config,
      random: seededRandom(Math.floor(this.random() * 1e9)),
      now: this.now,
      bootstrap: this.bootstrap,
      hardState: { ...d.hardState },
      leaderPin: d.pin === null ? null : { ...d.pin },
      snapshotMeta: d.snapshot?.meta ?? null,
      snapshotState: d.snapshot?.state ?? null,
      entries: [...d.entries],
      commitIndex: d.commitIndex,
    });
  }

  node(name: string): FuzzNode {
    const found = this.nodes.get(nodeId(name));
    if (found === undefined) throw new Error(name);
    return found;
  }

  core(name: string | NodeId): RaftCore {
    const core = this.nodes.get(name as NodeId)?.core;
    if (core === null || core === undefined) throw new Error(`${name} is down`);
    return core;
  }

  crash(id: NodeId): void {
    const node = this.nodes.get(id)!;
    node.core = null;
    this.queue = this.queue.filter((item) => item.to !== id && item.from !== id);
  }

  restart(id: NodeId): void {
    const node = this.nodes.get(id)!;
    if (node.core !== null) return;
    this.boot(node);
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) {
      if (other === id) continue;
      this.blocked.add(`${id}->${other}`);
      this.blocked.add(`${other}->${id}`);
    }
  }

  partition(groups: NodeId[][]): void {
    this.blocked.clear();
    for (const a of this.ids) {
      for (const b of this.ids) {
        if (a === b) continue;
        const same = groups.some((group) => group.includes(a) && group.includes(b));
        if (!same) this.blocked.add(`${a}->${b}`);
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  private send(from: NodeId, to: NodeId, message: RaftMessage): void {
    if (this.blocked.has(`${from}->${to}`)) return;
    if (this.random() < this.dropProbability) return;
    const copies = this.random() < this.duplicateProbability ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1) {
      const delay = this.minDelay + Math.floor(this.random() * (this.maxDelay - this.minDelay + 1));
      this.queue.push({ at: this.now + delay, seq: this.seq++, from, to, message });
    }
  }

  /** Drains every node's readies (writes are instant). */
  drain(): void {
    for (let round = 0; round < 1000; round += 1) {
      let any = false;
      for (const node of this.nodes.values()) {
        const core = node.core;
        if (core === null) continue;
        for (;;) {
          const ready = core.takeReady();
          if (ready === null) break;
          any = true;
          for (const outbound of ready.messages) this.send(node.id, outbound.to, outbound.message);
          const d = node.durable;
          if (ready.hardState !== null) d.hardState = { ...ready.hardState };
          if (ready.leaderForTerm !== null) d.pin = { ...ready.leaderForTerm };
          if (ready.truncateFrom !== null) d.entries = d.entries.filter((entry) => entry.index < (ready.truncateFrom as number));
          if (ready.snapshot !== null) {
            d.snapshot = { meta: ready.snapshot.meta, state: ready.snapshot.state };
            const through = ready.snapshot.discardLogThrough;
            d.entries = d.entries.filter((entry) => entry.index > through);
          }
          if (ready.entries.length > 0) {
            const first = ready.entries[0]!.index;
            d.entries = d.entries.filter((entry) => entry.index < first);
            d.entries.push(...ready.entries);
          }
          if (ready.commitIndex !== null) d.commitIndex = ready.commitIndex;
          if (readyNeedsWrite(ready)) {
            const last = ready.entries[ready.entries.length - 1];
            core.persisted(this.now, last === undefined ? null : { index: last.index, term: last.term }, ready.snapshot?.meta.lastIncludedIndex ?? 0);
          }
          for (const outbound of ready.messagesAfterPersist) this.send(node.id, outbound.to, outbound.message);
          for (const read of ready.reads) {
            const key = `${node.id}/${read.readId}`;
            const floor = this.readFloor.get(key);
            this.readFloor.delete(key);
            if ('failure' in read) continue;
            if (floor !== undefined) {
              this.readsDone.push({ node: node.id, readId: read.readId, readIndex: read.readIndex, floor });
              if (read.readIndex < floor) this.violate('stale read', `${node.id} read ${read.readId} returned ${read.readIndex} but ${floor} was known committed before it began (t=${this.now})`);
            }
          }
          for (const outcome of ready.outcomes) {
            if (outcome.type === 'committed') this.acknowledged.push({ index: outcome.entry.index, term: outcome.entry.term });
          }
          for (const transfer of ready.transfers) this.transferOutcomes.push({ node: node.id, transferId: transfer.transferId, failure: transfer.failure, at: this.now });
          for (const change of ready.membershipChanges) this.membershipOutcomes.push({ node: node.id, changeId: change.changeId, failure: change.failure, at: this.now });
        }
      }
      this.check();
      if (!any) return;
    }
  }

  violate(kind: string, detail: string): void {
    if (this.violations.length < 20) this.violations.push({ kind, detail });
  }

  private check(): void {
    for (const node of this.nodes.values()) {
      const core = node.core;
      if (core === null) continue;
      if (core.role === 'leader') {
        const existing = this.leaderOfTerm.get(core.term);
        if (existing === undefined) this.leaderOfTerm.set(core.term, node.id);
        else if (existing !== node.id) this.violate('two leaders', `term ${core.term}: ${existing} and ${node.id} (t=${this.now})`);
      }
      const commit = core.commitIndex;
      if (commit > this.maxKnownCommit) this.maxKnownCommit = commit;
      for (let index = Math.max(core.compactionFloor + 1, commit - 50); index <= commit; index += 1) {
        const term = core.termAt(index);
        if (term === undefined) continue;
        const known = this.committedTerm.get(index);
        if (known === undefined) this.committedTerm.set(index, term);
        else if (known !== term) this.violate('committed entries differ', `index ${index}: term ${known} vs ${term} on ${node.id} (t=${this.now})`);
      }
    }
  }

  requestRead(id: NodeId, readId: number): void {
    const core = this.nodes.get(id)?.core;
    if (core === null || core === undefined) return;
    this.readFloor.set(`${id}/${readId}`, this.maxKnownCommit);
    core.requestRead(this.now, readId);
  }

  readonly lastQuorumContact = new Map<NodeId, number>();
  leaderSince = new Map<NodeId, number>();
  checkQuorumSlack = 0;
  readonly reportedCut = new Set<string>();

  private reachable(a: NodeId, b: NodeId): boolean {
    if (a === b) return true;
    if (this.nodes.get(b)?.core == null) return false;
    return !this.blocked.has(`${a}->${b}`) && !this.blocked.has(`${b}->${a}`);
  }

  private readonly lastReach = new Map<string, number>();
  private readonly payloadSeen = new Map<NodeId, { key: string; at: number }>();

  private checkQuorumBound(): void {
    const cfg = resolveRaftConfig(this.config);
    const bound = cfg.electionTimeoutMaxMs + cfg.heartbeatIntervalMs + 2 * this.maxDelay + 10 + this.checkQuorumSlack;
    for (const a of this.ids) for (const b of this.ids) if (this.nodes.get(a)!.core !== null && this.reachable(a, b)) this.lastReach.set(`${a}/${b}`, this.now);
    for (const node of this.nodes.values()) {
      const core = node.core;
      if (core === null || core.role !== 'leader') {
        this.leaderSince.delete(node.id);
        continue;
      }
      const payload = core.membershipPayload;
      const key = JSON.stringify(payload);
      const seen = this.payloadSeen.get(node.id);
      if (seen === undefined || seen.key !== key) this.payloadSeen.set(node.id, { key, at: this.now });
      if (!this.leaderSince.has(node.id)) this.leaderSince.set(node.id, this.now);
      const heard = (voters: readonly NodeId[]): number => {
        const values = voters.map((v) => this.lastReach.get(`${node.id}/${v}`) ?? -1e9).sort((x, y) => y - x);
        return values[Math.floor(values.length / 2)] ?? -1e9;
      };
      const lastQuorum = Math.min(heard(payload.new.voters), payload.old === null ? Infinity : heard(payload.old.voters));
      const since = Math.max(lastQuorum, this.leaderSince.get(node.id)!, this.payloadSeen.get(node.id)!.at);
      if (this.now - since > bound) {
        const tag = `${node.id}/${core.term}/${since}`;
        if (!this.reportedCut.has(tag)) {
          this.reportedCut.add(tag);
          const reach = this.ids.map((id) => `${id}:${this.nodes.get(id)!.core === null ? 'down' : this.reachable(node.id, id) ? 'up' : 'cut'}`).join(',');
          this.violate('checkQuorum', `${node.id} leads term ${core.term} without a quorum of ${key} since t=${since} (bound ${bound}, t=${this.now}) reach ${reach}`);
        }
      }
    }
  }

  /** Runs virtual time forward in 1 ms steps. */
  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += 1;
      this.checkQuorumBound();
      for (const node of this.nodes.values()) {
        const core = node.core;
        if (core !== null && core.nextDeadline() <= this.now) core.tick(this.now);
      }
      this.drain();
      for (;;) {
        this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const item = this.queue[0];
        if (item === undefined || item.at > this.now) break;
        this.queue.shift();
        const target = this.nodes.get(item.to)?.core;
        if (target === null || target === undefined) continue;
        target.receive(this.now, item.from, item.message);
        this.drain();
      }
    }
  }

  leaders(): FuzzNode[] {
    return [...this.nodes.values()].filter((node) => node.core?.role === 'leader');
  }

  newestLeader(): FuzzNode | null {
    let best: FuzzNode | null = null;
    for (const node of this.leaders()) if (best === null || node.core!.term > best.core!.term) best = node;
    return best;
  }
}
