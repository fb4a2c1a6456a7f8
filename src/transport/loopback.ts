// An in-process network: every transport created from one hub reaches the others. Delivery is
// asynchronous (a microtask), bytes are copied so a sender cannot mutate what was sent, and
// `from` is set by the hub, never read from the bytes.
import { copyBytes } from '../core/bytes.ts';
import { createEmitter, createWatchable, type WritableWatchable } from '../core/observable.ts';
import type { NodeId, RaftEnvelope } from '../core/types.ts';
import type { RaftTransport } from './raft-transport.ts';

export interface LoopbackTransport extends RaftTransport {
  close(): void;
}

export interface LoopbackNetwork {
  transport(id: NodeId): LoopbackTransport;
}

interface Endpoint {
  readonly deliver: (envelope: RaftEnvelope) => void;
  readonly peers: WritableWatchable<ReadonlySet<NodeId>>;
}

/**
 * An in-process network for trying things out and for tests: `transport(id)` once per node (a
 * second live one for an id throws). Sends to an unknown or closed peer are dropped silently, as
 * RaftTransport's contract asks; it never partitions (raftmesh/testing's simulated network does).
 */
export function createLoopbackNetwork(): LoopbackNetwork {
  const endpoints = new Map<NodeId, Endpoint>();
  const refreshPeers = (): void => {
    for (const [id, endpoint] of endpoints) endpoint.peers.set(new Set([...endpoints.keys()].filter((other) => other !== id)));
  };
  return {
    transport(id) {
      if (endpoints.has(id)) throw new Error(`loopback network already has a transport for ${id}: close() that transport first (node.close() leaves the transport it was given open), then ask for a new one`);
      const incoming = createEmitter<RaftEnvelope>();
      const peers = createWatchable<ReadonlySet<NodeId>>(new Set(), (left, right) => left.size === right.size && [...left].every((peer) => right.has(peer)));
      endpoints.set(id, { deliver: (envelope) => incoming.emit(envelope), peers });
      refreshPeers();
      let closed = false;
      return {
        selfId: id,
        peers,
        incoming,
        send(to, bytes) {
          if (closed) return;
          const target = endpoints.get(to);
          if (target === undefined) return;
          const copy = copyBytes(bytes);
          queueMicrotask(() => {
            if (endpoints.get(to) === target) target.deliver({ from: id, bytes: copy });
          });
        },
        close() {
          if (closed) return;
          closed = true;
          endpoints.delete(id);
          refreshPeers();
          peers.set(new Set());
        },
      };
    },
  };
}
