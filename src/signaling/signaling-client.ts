// What the WebRTC transport needs from signaling, whichever way it travels (a WebSocket server or
// a BroadcastChannel between tabs): who is in the room, and a way to pass opaque offers, answers
// and candidates to one of them. `from` on a received signal is the identity the channel
// admitted (the server's, or the HMAC-verified sender's), never a claim of the payload.
import type { Subscribable, Watchable } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import type { SignalingErrorCode } from './messages.ts';

export interface ReceivedSignal {
  readonly from: NodeId;
  readonly payload: string;
}

export interface SignalingClient {
  readonly selfId: NodeId;
  readonly roomId: string;
  /** Peers present in the room now (self excluded). Empty while disconnected from the server. */
  readonly peers: Watchable<ReadonlySet<NodeId>>;
  /** Best effort: dropped while not joined or for an unknown peer (the transport retries). */
  signal(to: NodeId, payload: string): void;
  readonly signals: Subscribable<ReceivedSignal>;
  /** Idempotent; `closed` then resolves with null. */
  close(): void;
  /** Resolves once the client stops for good: null after `close()`, the reason otherwise. */
  readonly closed: Promise<Error | null>;
  /**
   * Whether `peers` is the room's real membership yet (a WebSocket client: joined the server and
   * received the peer list). Absent means always (a BroadcastChannel hears the origin at once).
   * Room discovery starts its listening window from here, so a peer that reaches the server late
   * does not mistake an empty list for an empty room.
   */
  readonly ready?: Watchable<boolean>;
}

/** The room refused us, or told us something retrying cannot fix (see `terminalErrorCodes`). */
export class SignalingRefusedError extends Error {
  override readonly name = 'SignalingRefusedError';
  constructor(
    readonly code: SignalingErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** Gave up after `reconnectAttemptsMax` consecutive failures to reach and join the room. */
export class SignalingUnreachableError extends Error {
  override readonly name = 'SignalingUnreachableError';
}

export function samePeerSet(a: ReadonlySet<NodeId>, b: ReadonlySet<NodeId>): boolean {
  if (a.size !== b.size) return false;
  for (const peer of a) if (!b.has(peer)) return false;
  return true;
}
