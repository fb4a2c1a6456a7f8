// Room peers on the simulated network in tests: signaling that only lists who the network
// reaches, and a peer's transports by id, with only the id it uses now up.
import { createEmitter } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import type { SignalingClient } from '../signaling/signaling-client.ts';
import type { SimulatedNetwork } from '../testing/simulated-network.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';

/** Signaling that lists the transport's peers and carries nothing: the simulated network connects them. */
export function stubSignaling(roomId: string, id: NodeId, transport: RaftTransport): SignalingClient {
  return { selfId: id, roomId, peers: transport.peers, signal: () => {}, signals: createEmitter(), close: () => {}, closed: new Promise(() => {}) };
}

/**
 * The endpoint of the id a peer uses now. Its other ids go down: an id it gave up must be gone
 * from the network, not linger as a silent smaller peer.
 */
export function currentEndpoint(network: SimulatedNetwork, transports: Map<NodeId, RaftTransport>, id: NodeId): RaftTransport {
  const transport = transports.get(id) ?? network.transport(id);
  transports.set(id, transport);
  for (const other of transports.keys()) network.setDown(other, other !== id);
  return transport;
}
