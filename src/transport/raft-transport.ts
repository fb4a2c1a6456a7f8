// The messaging seam (API.md "Storage and transport").
import type { NodeId, RaftEnvelope } from '../core/types.ts';
import type { Subscribable, Watchable } from '../core/observable.ts';

export interface RaftTransport {
  readonly selfId: NodeId;
  /** Peers currently reachable. */
  readonly peers: Watchable<ReadonlySet<NodeId>>;
  /** Best effort: may drop, never throws for a lost peer. */
  send(to: NodeId, bytes: Uint8Array): void;
  /** `from` is set by the transport, never read from the bytes. */
  readonly incoming: Subscribable<RaftEnvelope>;
  /** Largest frame it carries, if bounded. */
  readonly maxPayloadBytes?: number;
}
