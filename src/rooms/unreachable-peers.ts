// Which peers signaling lists in the room but the transport cannot reach. Discovery will not
// bootstrap beside such a peer (it may hold the room's cluster), so a page can wait for it
// indefinitely; and a member that cannot reach part of the room commits without it. Either way
// the application should be able to say so instead of showing nothing: this watch reports the
// set (as a `peersUnreachable` room event) whenever it changes.
import type { Clock } from '../core/config.ts';
import type { Watchable } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import type { RoomEvent } from './room-events.ts';

/** An event names at most this many peers (`count` has the total): events stay small in a big room. */
export const maxReportedPeers = 32;

export interface UnreachablePeersOptions {
  readonly selfId: NodeId;
  /** Peers signaling lists in the room (its own bound: at most 1,024). */
  readonly listed: Watchable<ReadonlySet<NodeId>>;
  /** Peers the transport reaches now. */
  readonly reachable: Watchable<ReadonlySet<NodeId>>;
  readonly clock: Clock;
  /** A listed peer counts once it has gone this long without a connection (forming one takes a moment). */
  readonly graceMs: number;
  readonly checkIntervalMs: number;
  readonly report: (event: Extract<RoomEvent, { type: 'peersUnreachable' }>) => void;
}

export interface UnreachablePeers {
  /** False once this peer has found its cluster or bootstrapped one (until then discovery may wait for them). */
  setWaiting(waiting: boolean): void;
  close(): void;
}

export function watchUnreachablePeers(options: UnreachablePeersOptions): UnreachablePeers {
  const { clock } = options;
  /** Listed and unreachable since when; bounded by the listed set. */
  const since = new Map<NodeId, number>();
  let reported: readonly NodeId[] = [];
  let waiting = true;
  let reportedWaiting = true;
  let closed = false;
  let timer: unknown = null;

  const check = (): void => {
    const now = clock.now();
    const listed = options.listed.value;
    const reachable = options.reachable.value;
    for (const peer of since.keys()) if (!listed.has(peer) || reachable.has(peer)) since.delete(peer);
    for (const peer of listed) if (peer !== options.selfId && !reachable.has(peer) && !since.has(peer)) since.set(peer, now);
    const unreachable = [...since].filter(([, from]) => now - from >= options.graceMs).map(([peer]) => peer).sort();
    const changed = unreachable.length !== reported.length || unreachable.some((peer, position) => peer !== reported[position]);
    // A change of `waiting` matters only while some peer is unreachable (it changes the advice).
    if (!changed && (waiting === reportedWaiting || unreachable.length === 0)) return;
    reported = unreachable;
    reportedWaiting = waiting;
    options.report({ type: 'peersUnreachable', peers: unreachable.slice(0, maxReportedPeers), count: unreachable.length, waiting, at: now });
  };
  const tick = (): void => {
    timer = null;
    if (closed) return;
    check();
    timer = clock.setTimeout(tick, options.checkIntervalMs);
  };
  tick();
  return {
    setWaiting(next) {
      if (closed || next === waiting) return;
      waiting = next;
      check();
    },
    close() {
      closed = true;
      if (timer !== null) clock.clearTimeout(timer);
    },
  };
}
