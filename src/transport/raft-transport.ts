// The messaging seam (API.md "Storage and transport").
import type { NodeId, RaftEnvelope } from '../core/types.ts';
import type { Subscribable, Watchable } from '../core/observable.ts';
import type { DataChannelHost, DataChannelService } from './webrtc/data-channel-hand-off.ts';

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
  /**
   * Frames up to this size reach a peer in the order they were sent; larger ones may overtake
   * smaller ones or be overtaken (WebRTC sends them on a channel of their own). The engine keeps
   * its replication batches within it, because a batch that overtakes the one before it is refused
   * and costs a probe and a resend. Unset: everything arrives in order (or may be lost). A
   * transport that moves a peer's frames to another path (WebRTC, when a worker takes its channels
   * over or gives them back) promises order only between such moves: frames sent on either side
   * of one may cross, which costs at most that one resend.
   */
  readonly orderedFrameBytes?: number;
  /**
   * Optional: hands the data path of this transport's connections to the engine's worker, so
   * Raft frames travel between workers without crossing the page (the WebRTC transport does;
   * createWorkerRaftNode calls it). Frames on that path bypass every wrapper, both ways: a
   * wrapper passes it through only if it neither filters nor observes Raft frames (rooms' does;
   * the demo's partition switch, which drops frames, must not).
   */
  serveDataChannelsTo?(host: DataChannelHost): DataChannelService;
  /**
   * Optional: closes the transport's connections. joinRoom calls it when it stops using a
   * transport it had `createTransport` make (leaving, or giving an id up): a transport left open
   * keeps its peers connected to a node that is gone, and they go on seeing it as reachable.
   */
  close?(): void;
}
