// When this page last received anything from each peer it is connected to. The transport's
// reachable set only says a WebRTC connection is open; a peer that cut itself off with its own
// "Disconnect this peer" button (or whose tab froze) keeps that connection open while sending
// nothing, and the panel went on calling it "connected". What a page actually receives from a
// member is the honest signal: the partition switch reports every frame it lets through (Raft
// frames and status gossip), and a member heard from longer ago than `silentAfterMs` reads as
// silent.
//
// No timers: times are read from the clock when the panel asks, so there is nothing to stop.
import { createEmitter, type NodeId, type Subscribable, type Unsubscribe, type Watchable } from 'raftmesh';

/**
 * Every connected member sends this page something at least every half second: its status gossip
 * (every 500 ms, at most once a second in a hidden tab, where browsers throttle timers), and the
 * leader's heartbeats or a follower's answers to them every 50 ms. Three seconds is three
 * throttled gossips missed in a row, or six visible ones, so a busy main thread or a hidden tab
 * does not flicker to silent; and it is when the member's gossiped status goes stale
 * (demo-model.ts), so its role turns unknown as it turns silent, not seconds apart.
 */
export const silentAfterMs = 3_000;

export interface LastHeard {
  /**
   * Milliseconds since this page last received a frame from a reachable member (or since the
   * member became reachable, if nothing came yet); null for a member that is not reachable.
   */
  heardMsAgo(id: NodeId): number | null;
  /**
   * A frame from a member this page had heard nothing from for `silentAfterMs` or more: the end of
   * a silence, told at the frame that ends it (a member whose connection closed is forgotten, so a
   * new connection ends nothing).
   */
  readonly silenceEnded: Subscribable<{ readonly id: NodeId; readonly silentForMs: number }>;
  /** Stops following the frames and the reachable peers. */
  close(): void;
}

export interface LastHeardOptions {
  /** The sender of each frame that reached this page. */
  readonly frames: Subscribable<NodeId>;
  /** The transport's reachable peers (none while this page is cut off). */
  readonly reachable: Watchable<ReadonlySet<NodeId>>;
  readonly now: () => number;
}

export function createLastHeard(options: LastHeardOptions): LastHeard {
  const { frames, reachable, now } = options;
  /** Only reachable members are kept, so the map is as bounded as the transport's peer set. */
  const heardAt = new Map<NodeId, number>();
  const silenceEnded = createEmitter<{ readonly id: NodeId; readonly silentForMs: number }>();
  const follow = (peers: ReadonlySet<NodeId>): void => {
    // A member that left (or that this page cut itself off from) is forgotten: if it comes back,
    // its silence counts from the new connection, not from before it went away.
    for (const id of [...heardAt.keys()]) if (!peers.has(id)) heardAt.delete(id);
    // A connection that just opened counts as hearing from the member: nothing has been missed yet.
    for (const id of peers) if (!heardAt.has(id)) heardAt.set(id, now());
  };
  follow(reachable.value);
  const unsubscribes: Unsubscribe[] = [
    reachable.subscribe(follow),
    frames.subscribe((from) => {
      const before = heardAt.get(from);
      if (before === undefined) return;
      const at = now();
      heardAt.set(from, at);
      if (at - before >= silentAfterMs) silenceEnded.emit({ id: from, silentForMs: at - before });
    }),
  ];
  return {
    heardMsAgo(id) {
      const at = heardAt.get(id);
      return at === undefined ? null : Math.max(0, now() - at);
    },
    silenceEnded,
    close() {
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      heardAt.clear();
    },
  };
}
