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

export const reliableNetwork: NetworkConditions = { minDelayMs: 1, maxDelayMs: 3, dropProbability: 0, duplicateProbability: 0 };

/** Messages queued per link at most; beyond it they are dropped, as a real network would. */
const maxInFlightPerLink = 10_000;

export interface SimulatedNetwork {
  /** Delay, drop and duplicate settings for messages sent from now on (validated on assignment). */
  conditions: NetworkConditions;
  transport(id: NodeId): RaftTransport;
  /** Cuts every link between the groups (nodes in no group are cut from everyone). */
  partition(groups: readonly (readonly NodeId[])[]): void;
  /** Cuts only from → to. */
  blockOneWay(from: NodeId, to: NodeId): void;
  isolate(id: NodeId): void;
  /** Clears every partition and one-way block (a node set down stays down: that is a crash). */
  heal(): void;
  /** A node that is down neither sends nor receives. */
  setDown(id: NodeId, down: boolean): void;
  /** Delivers bytes to `to` as if `from` sent them (a hostile peer; `from` need not be a node). */
  inject(from: NodeId, to: NodeId, bytes: Uint8Array): void;
  readonly stats: { sent: number; delivered: number; dropped: number; duplicated: number };
}

interface Endpoint {
  readonly incoming: Emitter<RaftEnvelope>;
  readonly peers: WritableWatchable<ReadonlySet<NodeId>>;
}

export function createSimulatedNetwork(clock: VirtualClock, random: () => number, conditions: NetworkConditions = reliableNetwork): SimulatedNetwork {
  const endpoints = new Map<NodeId, Endpoint>();
  const blocked = new Set<string>();
  const down = new Set<NodeId>();
  const inFlight = new Map<string, number>();
  const stats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  let current = validateConditions(conditions);
  const linkKey = (from: NodeId, to: NodeId): string => `${from}\u0000${to}`;
  const cut = (from: NodeId, to: NodeId): boolean => blocked.has(linkKey(from, to)) || down.has(from) || down.has(to);

  const refreshPeers = (): void => {
    for (const [id, endpoint] of endpoints) {
      endpoint.peers.set(new Set([...endpoints.keys()].filter((other) => other !== id && !cut(id, other))));
    }
  };

  const schedule = (from: NodeId, to: NodeId, bytes: Uint8Array): void => {
    const key = linkKey(from, to);
    const queued = inFlight.get(key) ?? 0;
    if (queued >= maxInFlightPerLink) {
      stats.dropped += 1;
      return;
    }
    inFlight.set(key, queued + 1);
    const delay = current.minDelayMs + random() * (current.maxDelayMs - current.minDelayMs);
    clock.setTimeout(() => {
      inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      // A link cut while the message was in the air loses it.
      if (cut(from, to)) {
        stats.dropped += 1;
        return;
      }
      stats.delivered += 1;
      endpoints.get(to)?.incoming.emit({ from, bytes });
    }, delay);
  };

  const network: SimulatedNetwork = {
    get conditions() {
      return current;
    },
    set conditions(next) {
      current = validateConditions(next);
    },
    stats,
    transport(id) {
      if (endpoints.has(id)) throw new Error(`simulated network already has ${id}`);
      const endpoint: Endpoint = {
        incoming: createEmitter<RaftEnvelope>(),
        peers: createWatchable<ReadonlySet<NodeId>>(new Set(), (left, right) => left.size === right.size && [...left].every((peer) => right.has(peer))),
      };
      endpoints.set(id, endpoint);
      refreshPeers();
      return {
        selfId: id,
        peers: endpoint.peers,
        incoming: endpoint.incoming,
        send(to, bytes) {
          stats.sent += 1;
          if (cut(id, to) || !endpoints.has(to) || random() < current.dropProbability) {
            stats.dropped += 1;
            return;
          }
          const copy = bytes.slice();
          schedule(id, to, copy);
          if (random() < current.duplicateProbability) {
            stats.duplicated += 1;
            schedule(id, to, copy);
          }
        },
      };
    },
    partition(groups) {
      const groupOf = new Map<NodeId, number>();
      groups.forEach((group, position) => group.forEach((id) => groupOf.set(id, position)));
      blocked.clear();
      for (const from of endpoints.keys()) {
        for (const to of endpoints.keys()) {
          if (from !== to && (groupOf.get(from) === undefined || groupOf.get(from) !== groupOf.get(to))) blocked.add(linkKey(from, to));
        }
      }
      refreshPeers();
    },
    blockOneWay(from, to) {
      blocked.add(linkKey(from, to));
      refreshPeers();
    },
    isolate(id) {
      for (const other of endpoints.keys()) {
        if (other === id) continue;
        blocked.add(linkKey(id, other));
        blocked.add(linkKey(other, id));
      }
      refreshPeers();
    },
    inject(from, to, bytes) {
      if (down.has(to)) return;
      endpoints.get(to)?.incoming.emit({ from, bytes });
    },
    heal() {
      blocked.clear();
      refreshPeers();
    },
    setDown(id, isDown) {
      if (isDown) down.add(id);
      else down.delete(id);
      refreshPeers();
    },
  };
  return network;
}
