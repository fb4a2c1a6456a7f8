// The core-level cluster of the randomized fuzzes (first written by reviews: the reads-and-transfer
// fuzz, reads-transfer-fuzz.test.ts, 2026-12-06, and the durability fuzz, durability-fuzz.test.ts,
// 2026-12-07): a delaying, reordering, lossy network, crashes and restarts from the disk, disks
// that write at once or slowly (writes land in order, a crash loses those still in flight), and
// checkers for election safety, committed-entry agreement, read-index freshness (a read must return
// at least every index any node knew committed before the read began) and the durability rule
// (fuzz-cluster-disk.test-support.ts).
import { resolveRaftConfig, type RaftConfig } from '../core/config.ts';
import type { RaftMessage } from '../core/messages.ts';
import { RaftCore } from '../core/raft-core.ts';
import { readyNeedsWrite, type Ready } from '../core/ready.ts';
import { claimBeyondDisk, emptyDisk, firstDisagreement, termsOnDisk, writeToDisk, type Disk, type DiskTerms } from './fuzz-cluster-disk.test-support.ts';
import { seededRandom } from './seeded-random.ts';
import { nodeId, type ClusterConfig, type NodeId } from '../core/types.ts';

interface PendingWrite {
  readonly ready: Ready;
  /** Frames that wait for this write: its own, and those of readies taken while it was in flight. */
  readonly after: Array<{ readonly to: NodeId; readonly message: RaftMessage }>;
}

export interface FuzzNode {
  readonly id: NodeId;
  core: RaftCore | null;
  durable: Disk;
  /** Writes in flight, oldest first (slow disks only: writeLandingChance). */
  writes: PendingWrite[];
  witness: boolean;
}

interface InFlight {
  at: number;
  seq: number;
  from: NodeId;
  to: NodeId;
  message: RaftMessage;
  /** For a success acknowledgement: the sender's disk when it went out. */
  diskTerms?: DiskTerms;
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
  /**
   * Null (the default): a write lands at once, inside drain(). A number: disks are slow, and each
   * ms a live node's oldest write in flight lands with this chance; the frames that wait for it
   * go only then, and a crash lands a random prefix of the writes in flight and loses the rest.
   */
  writeLandingChance: number | null = null;
  /** Whether frames a node sent before it crashed still arrive, as on a real network (the reads fuzz drops them with it). */
  crashKeepsFramesSent = false;
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
      const node: FuzzNode = { id, core: null, durable: emptyDisk(), writes: [], witness: witnesses.includes(id) };
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
    if (node.writes.length > 0) {
      // Writes land in order: a prefix of those in flight is on the disk, the rest is lost.
      const landed = Math.floor(this.random() * (node.writes.length + 1));
      for (const write of node.writes.slice(0, landed)) this.store(node, write.ready);
      node.writes = [];
    }
    node.core = null;
    this.queue = this.queue.filter((item) => item.to !== id && (this.crashKeepsFramesSent || item.from !== id));
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
    const disk = this.nodes.get(from)!.durable;
    const claim = claimBeyondDisk(disk, to, message);
    if (claim !== null) this.violate('durability', `${from} ${claim} (t=${this.now})`);
    if (this.blocked.has(`${from}->${to}`)) return;
    if (this.random() < this.dropProbability) return;
    const copies = this.random() < this.duplicateProbability ? 2 : 1;
    const diskTerms = message.type === 'appendEntriesResponse' && message.success ? { diskTerms: termsOnDisk(disk) } : {};
    for (let copy = 0; copy < copies; copy += 1) {
      const delay = this.minDelay + Math.floor(this.random() * (this.maxDelay - this.minDelay + 1));
      this.queue.push({ at: this.now + delay, seq: this.seq++, from, to, message, ...diskTerms });
    }
  }

  private store(node: FuzzNode, ready: Ready): void {
    for (const wrong of writeToDisk(node.durable, ready)) this.violate('disk', `${node.id} ${wrong} (t=${this.now})`);
  }

  /** The write reaches the disk: the core hears of it and the frames that waited for it go. */
  private land(node: FuzzNode, core: RaftCore, write: PendingWrite): void {
    const { ready } = write;
    this.store(node, ready);
    if (readyNeedsWrite(ready)) {
      const last = ready.entries[ready.entries.length - 1];
      core.persisted(this.now, last === undefined ? null : { index: last.index, term: last.term }, ready.snapshot?.meta.lastIncludedIndex ?? 0);
    }
    for (const outbound of write.after) this.send(node.id, outbound.to, outbound.message);
  }

  /** Slow disks: each live node's oldest write in flight lands with writeLandingChance. */
  private landWrites(): void {
    const chance = this.writeLandingChance;
    if (chance === null) return;
    for (const node of this.nodes.values()) {
      const write = node.writes[0];
      if (node.core === null || write === undefined || this.random() >= chance) continue;
      node.writes.shift();
      this.land(node, node.core, write);
    }
  }

  /** Takes every node's readies (a write lands at once unless disks are slow: writeLandingChance). */
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
          this.take(node, core, ready);
        }
      }
      this.check();
      if (!any) return;
    }
  }

  private take(node: FuzzNode, core: RaftCore, ready: Ready): void {
    for (const outbound of ready.messages) this.send(node.id, outbound.to, outbound.message);
    const write: PendingWrite = { ready, after: ready.messagesAfterPersist.map((outbound) => ({ to: outbound.to, message: outbound.message })) };
    const lastInFlight = node.writes[node.writes.length - 1];
    if (this.writeLandingChance === null) this.land(node, core, write);
    else if (readyNeedsWrite(ready)) node.writes.push(write);
    else if (lastInFlight !== undefined) lastInFlight.after.push(...write.after);
    else for (const outbound of write.after) this.send(node.id, outbound.to, outbound.message);
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
    // Not with slow disks: a follower's answers wait for its writes in flight, however long, and
    // a link cut one way only lets them reach the leader well after the cut (seed 197 of the
    // durability fuzz's tight three-node shape: answers about 40 and 80 ms after it), so the
    // leader rightly counts them.
    if (this.writeLandingChance !== null) return;
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
      this.landWrites();
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
        this.checkAcknowledgement(item, target);
        target.receive(this.now, item.from, item.message);
        this.drain();
      }
    }
  }

  /** A success acknowledgement reaching the leader of its term agrees with that leader's log (Log Matching). */
  private checkAcknowledgement(item: InFlight, target: RaftCore): void {
    const message = item.message;
    if (message.type !== 'appendEntriesResponse' || item.diskTerms === undefined || target.role !== 'leader' || target.term !== message.term) return;
    const index = firstDisagreement(item.diskTerms, message.matchIndex, (at) => target.termAt(at), target.lastIndex);
    if (index !== null) this.violate('acknowledgement', `${item.from}'s acknowledgement through ${message.matchIndex} (term ${message.term}) disagrees with leader ${item.to} at ${index} (t=${this.now})`);
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
