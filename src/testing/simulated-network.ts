// A network on the virtual clock: every message gets a random delay (so messages reorder), may be
// dropped or duplicated, and links can be cut one way or both. All randomness comes from one
// seeded source, so a schedule replays exactly.
import { createEmitter, createWatchable, type Emitter, type WritableWatchable } from '../core/observable.ts';
import type { NodeId, RaftEnvelope } from '../core/types.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import type { VirtualClock } from './virtual-clock.ts';

export interface NetworkConditions {
  minDelayMs: number;
  maxDelayMs: number;
  dropProbability: number;
  duplicateProbability: number;
}

/** Conditions outside their ranges would silently skew a run (negative delays, p > 1): refuse them. */
export function validateConditions(conditions: NetworkConditions): NetworkConditions {
  const { minDelayMs, maxDelayMs, dropProbability, duplicateProbability } = conditions;
  if (!(minDelayMs >= 0) || !(maxDelayMs >= minDelayMs) || !Number.isFinite(maxDelayMs)) {
    throw new RangeError(`network delays must satisfy 0 <= minDelayMs <= maxDelayMs < Infinity, got ${minDelayMs}..${maxDelayMs}`);
  }
  for (const [name, probability] of [['dropProbability', dropProbability], ['duplicateProbability', duplicateProbability]] as const) {
    if (!(probability >= 0 && probability <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${probability}`);
  }
  return { ...conditions };
}

export interface SimulatedNetworkOptions {
  /**
   * Bytes per second each link (one direction between two nodes) carries: a frame occupies its
   * link for its size over this rate, and frames queue behind it, so a 16 KiB snapshot chunk is
   * slow where a heartbeat is not. Default Infinity (only the random delay applies).
   */
  readonly linkBytesPerSecond?: number;
}

export const reliableNetwork: NetworkConditions = { minDelayMs: 1, maxDelayMs: 3, dropProbability: 0, duplicateProbability: 0 };

/** Messages queued per link at most; beyond it they are dropped, as a real network would. */
const maxInFlightPerLink = 10_000;

export interface SimulatedNetwork {
  /** Delay, drop and duplicate settings for messages sent from now on (validated on assignment). */
  conditions: NetworkConditions;
  transport(id: NodeId): RaftTransport;
  /**
   * Cuts every link between the groups (nodes in no group are cut from everyone). It replaces
   * every earlier partition, isolate and one-way block; messages already in flight on a cut
   * link are lost.
   */
  partition(groups: readonly (readonly NodeId[])[]): void;
  /** Cuts only from → to. */
  blockOneWay(from: NodeId, to: NodeId): void;
  /**
   * Restores only from → to, cut by blockOneWay, a partition or an isolate; every other cut link
   * stays cut (heal restores them all). A node set down or unplugged stays so.
   */
  unblockOneWay(from: NodeId, to: NodeId): void;
  isolate(id: NodeId): void;
  /** Clears every partition and one-way block (a node set down stays down: that is a crash). */
  heal(): void;
  /** A node that is down neither sends nor receives (frames it sent before going down still arrive). */
  setDown(id: NodeId, down: boolean): void;
  /**
   * A node unplugged neither sends nor receives, and the frames in the air to or from it are lost
   * (its cable pulled out). Unlike an isolate, no partition or heal plugs it back in: only
   * setUnplugged(id, false) does, so a fault sequence can count on it staying out.
   */
  setUnplugged(id: NodeId, unplugged: boolean): void;
  /**
   * Makes `id` die as it sends (a process killed between two send() calls): `framesFirst` more of
   * its frames go out, and the next one is lost, as is everything it sends or is sent until
   * setDown(id, false) or a heal of the crash; `strike` runs then, synchronously and inside the
   * sender's send(), so it should only schedule the crash itself. Replaces an earlier arming.
   */
  armCrashOnSend(id: NodeId, framesFirst: number, strike: () => void): void;
  /** Forgets every armed crash-on-send that has not struck. */
  disarmCrashesOnSend(): void;
  /** Delivers bytes to `to` as if `from` sent them (a hostile peer; `from` need not be a node). */
  inject(from: NodeId, to: NodeId, bytes: Uint8Array): void;
  readonly stats: { sent: number; delivered: number; dropped: number; duplicated: number };
  /** A synchronous listener to every frame a node sends (the simulation digest); null by default. */
  onSend: ((from: NodeId, to: NodeId, bytes: Uint8Array) => void) | null;
}

interface Endpoint {
  readonly incoming: Emitter<RaftEnvelope>;
  readonly peers: WritableWatchable<ReadonlySet<NodeId>>;
}

/**
 * A network on `clock` whose every random choice comes from `random` (use seededRandom(seed)):
 * the same seed and sends give the same deliveries. Throws a RangeError for invalid conditions.
 */
export function createSimulatedNetwork(clock: VirtualClock, random: () => number, conditions: NetworkConditions = reliableNetwork, options: SimulatedNetworkOptions = {}): SimulatedNetwork {
  const linkBytesPerSecond = options.linkBytesPerSecond ?? Number.POSITIVE_INFINITY;
  if (!(linkBytesPerSecond > 0)) throw new RangeError(`linkBytesPerSecond must be above 0, got ${linkBytesPerSecond}`);
  return new SimulatedNetworkHub(clock, random, validateConditions(conditions), linkBytesPerSecond);
}

const linkKey = (from: NodeId, to: NodeId): string => `${from}\u0000${to}`;
const samePeers = (left: ReadonlySet<NodeId>, right: ReadonlySet<NodeId>): boolean => left.size === right.size && [...left].every((peer) => right.has(peer));

class SimulatedNetworkHub implements SimulatedNetwork {
  readonly stats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  onSend: ((from: NodeId, to: NodeId, bytes: Uint8Array) => void) | null = null;
  private readonly endpoints = new Map<NodeId, Endpoint>();
  /** Cut links, by linkKey(from, to). */
  private readonly blocked = new Set<string>();
  private readonly down = new Set<NodeId>();
  private readonly unplugged = new Set<NodeId>();
  private readonly inFlight = new Map<string, number>();
  /** When each link finishes putting out the frames handed to it (bandwidth-limited links). */
  private readonly linkBusyUntil = new Map<string, number>();
  /** Crashes armed to strike on a send: how many more frames each sender gets out first. */
  private readonly sendCrashes = new Map<NodeId, { remaining: number; strike: () => void }>();
  /** Senders a crash-on-send struck: dead from that frame on, before their crash is carried out. */
  private readonly struck = new Set<NodeId>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly random: () => number,
    private current: NetworkConditions,
    private readonly linkBytesPerSecond: number,
  ) {}

  get conditions(): NetworkConditions {
    return this.current;
  }

  set conditions(next: NetworkConditions) {
    this.current = validateConditions(next);
  }

  transport(id: NodeId): RaftTransport {
    if (this.endpoints.has(id)) throw new Error(`simulated network already has ${id}`);
    const endpoint: Endpoint = { incoming: createEmitter<RaftEnvelope>(), peers: createWatchable<ReadonlySet<NodeId>>(new Set(), samePeers) };
    this.endpoints.set(id, endpoint);
    this.refreshPeers();
    return { selfId: id, peers: endpoint.peers, incoming: endpoint.incoming, send: (to, bytes) => this.send(id, to, bytes) };
  }

  partition(groups: readonly (readonly NodeId[])[]): void {
    const groupOf = new Map<NodeId, number>();
    groups.forEach((group, position) => group.forEach((id) => groupOf.set(id, position)));
    this.blocked.clear();
    for (const from of this.endpoints.keys()) {
      for (const to of this.endpoints.keys()) {
        if (from !== to && (groupOf.get(from) === undefined || groupOf.get(from) !== groupOf.get(to))) this.blocked.add(linkKey(from, to));
      }
    }
    this.refreshPeers();
  }

  blockOneWay(from: NodeId, to: NodeId): void {
    this.blocked.add(linkKey(from, to));
    this.refreshPeers();
  }

  unblockOneWay(from: NodeId, to: NodeId): void {
    this.blocked.delete(linkKey(from, to));
    this.refreshPeers();
  }

  isolate(id: NodeId): void {
    for (const other of this.endpoints.keys()) {
      if (other === id) continue;
      this.blocked.add(linkKey(id, other));
      this.blocked.add(linkKey(other, id));
    }
    this.refreshPeers();
  }

  heal(): void {
    this.blocked.clear();
    this.refreshPeers();
  }

  setDown(id: NodeId, isDown: boolean): void {
    if (isDown) this.down.add(id);
    else {
      this.down.delete(id);
      this.struck.delete(id);
    }
    this.refreshPeers();
  }

  setUnplugged(id: NodeId, unplugged: boolean): void {
    if (unplugged) this.unplugged.add(id);
    else this.unplugged.delete(id);
    this.refreshPeers();
  }

  armCrashOnSend(id: NodeId, framesFirst: number, strike: () => void): void {
    if (!Number.isSafeInteger(framesFirst) || framesFirst < 0) throw new RangeError(`framesFirst must be an integer >= 0, got ${framesFirst}`);
    this.sendCrashes.set(id, { remaining: framesFirst, strike });
  }

  disarmCrashesOnSend(): void {
    this.sendCrashes.clear();
  }

  /** Counts a frame against an armed crash-on-send; true when this frame is the one it strikes on. */
  private strikesNow(from: NodeId): boolean {
    const armed = this.sendCrashes.get(from);
    if (armed === undefined) return false;
    if (armed.remaining > 0) {
      armed.remaining -= 1;
      return false;
    }
    this.sendCrashes.delete(from);
    // Dead from here on, though the node is only set down when its crash is carried out: setDown
    // tells every node's transport of the change synchronously, which must not happen inside
    // this sender's send().
    this.struck.add(from);
    armed.strike();
    return true;
  }

  inject(from: NodeId, to: NodeId, bytes: Uint8Array): void {
    if (this.down.has(to) || this.struck.has(to) || this.unplugged.has(to)) return;
    this.endpoints.get(to)?.incoming.emit({ from, bytes });
  }

  private cut(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(linkKey(from, to)) || this.down.has(from) || this.down.has(to) || this.unplugged.has(from) || this.unplugged.has(to);
  }

  private refreshPeers(): void {
    for (const [id, endpoint] of this.endpoints) {
      endpoint.peers.set(new Set([...this.endpoints.keys()].filter((other) => other !== id && !this.cut(id, other))));
    }
  }

  private send(from: NodeId, to: NodeId, bytes: Uint8Array): void {
    this.onSend?.(from, to, bytes);
    this.stats.sent += 1;
    if (this.strikesNow(from) || this.struck.has(from) || this.cut(from, to) || !this.endpoints.has(to) || this.random() < this.current.dropProbability) {
      this.stats.dropped += 1;
      return;
    }
    const copy = bytes.slice();
    this.schedule(from, to, copy);
    if (this.random() < this.current.duplicateProbability) {
      this.stats.duplicated += 1;
      this.schedule(from, to, copy);
    }
  }

  /** How long until the link has put out this frame too (0 on an unbounded link). */
  private transmissionDelayMs(key: string, bytes: number): number {
    if (this.linkBytesPerSecond === Number.POSITIVE_INFINITY) return 0;
    const now = this.clock.now();
    const done = Math.max(now, this.linkBusyUntil.get(key) ?? now) + (bytes * 1000) / this.linkBytesPerSecond;
    this.linkBusyUntil.set(key, done);
    return done - now;
  }

  private schedule(from: NodeId, to: NodeId, bytes: Uint8Array): void {
    const key = linkKey(from, to);
    const queued = this.inFlight.get(key) ?? 0;
    if (queued >= maxInFlightPerLink) {
      this.stats.dropped += 1;
      return;
    }
    this.inFlight.set(key, queued + 1);
    const delay = this.transmissionDelayMs(key, bytes.length) + this.current.minDelayMs + this.random() * (this.current.maxDelayMs - this.current.minDelayMs);
    this.clock.setTimeout(() => {
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
      // A link cut while the message was in the air loses it, and so does a receiver that is
      // down. A sender that went down after sending does not: what is on the wire arrives. An
      // unplugged cable loses what is on it both ways.
      if (this.blocked.has(key) || this.down.has(to) || this.struck.has(to) || this.unplugged.has(from) || this.unplugged.has(to)) {
        this.stats.dropped += 1;
        return;
      }
      this.stats.delivered += 1;
      this.endpoints.get(to)?.incoming.emit({ from, bytes });
    }, delay);
  }
}
