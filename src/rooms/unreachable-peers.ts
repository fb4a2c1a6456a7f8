// Which peers signaling lists in the room but the transport cannot reach. Discovery will not
// bootstrap beside such a peer (it may hold the room's cluster), so a page can wait for it
// indefinitely; and a member that cannot reach part of the room commits without it. Either way
// the application should be able to say so instead of showing nothing: this watch reports the
// set (as a `peersUnreachable` room event) whenever it changes.
import type { Clock } from '../core/config.ts';
import type { Watchable } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import { emitSafely, type RoomEvent } from './room-events.ts';

/** An event names at most this many peers (`count` has the total): events stay small in a big room. */
export const maxReportedPeers = 32;

export interface UnreachablePeersOptions {
  readonly selfId: NodeId;
  /**
   * Peers signaling lists in the room (its own bound: at most 1,024), read at every check: join-room
   * passes the list that survives a signaling reconnect (discover-cluster.ts `listedAcrossReconnects`).
   */
  readonly listed: () => ReadonlySet<NodeId>;
  /** Peers the transport reaches now. */
  readonly reachable: Watchable<ReadonlySet<NodeId>>;
  readonly clock: Clock;
  /** A listed peer counts once it has gone this long without a connection (forming one takes a moment). */
  readonly graceMs: number;
  readonly checkIntervalMs: number;
  /** The application's listener: an exception it throws is re-raised apart, never stops the watch. */
  readonly report: (event: Extract<RoomEvent, { type: 'peersUnreachable' }>) => void;
}

export interface UnreachablePeers {
  /** False once this peer has found its cluster or bootstrapped one (until then discovery may wait for them). */
  setWaiting(waiting: boolean): void;
  /** The chooser discovery promised to join (discover-cluster.ts), or null. */
  setDeferringTo(chooser: NodeId | null): void;
  /** Stops; says `count: 0` first if the last report named anyone (a rejoin starts a new watch). */
  close(): void;
}

interface Said {
  readonly named: readonly NodeId[];
  readonly count: number;
  readonly waiting: boolean;
  readonly deferringTo: NodeId | null;
}

const sameNames = (a: readonly NodeId[], b: readonly NodeId[]): boolean => a.length === b.length && a.every((peer, position) => peer === b[position]);

export function watchUnreachablePeers(options: UnreachablePeersOptions): UnreachablePeers {
  const { clock } = options;
  /** Listed and unreachable since when; bounded by the listed set. */
  const since = new Map<NodeId, number>();
  let said: Said = { named: [], count: 0, waiting: true, deferringTo: null };
  let waiting = true;
  let deferringTo: NodeId | null = null;
  let closed = false;
  let timer: unknown = null;

  const report = (next: Said): void => {
    said = next;
    emitSafely(options.report, { type: 'peersUnreachable', peers: next.named, count: next.count, waiting: next.waiting, deferringTo: next.deferringTo, at: clock.now() });
  };
  const check = (): void => {
    const now = clock.now();
    const listed = options.listed();
    const reachable = options.reachable.value;
    for (const peer of since.keys()) if (!listed.has(peer) || reachable.has(peer)) since.delete(peer);
    for (const peer of listed) if (peer !== options.selfId && !reachable.has(peer) && !since.has(peer)) since.set(peer, now);
    const unreachable = [...since].filter(([, from]) => now - from >= options.graceMs).map(([peer]) => peer).sort();
    const named = unreachable.slice(0, maxReportedPeers);
    // Only what an event shows counts as a change (a swap beyond the named peers is not one); a
    // change of `waiting` or of the promise matters only while some peer is unreachable (it
    // changes the advice). A promise is said only while waiting.
    const promised = waiting ? deferringTo : null;
    const sameAdvice = (waiting === said.waiting && promised === said.deferringTo) || unreachable.length === 0;
    if (unreachable.length === said.count && sameNames(named, said.named) && sameAdvice) return;
    report({ named, count: unreachable.length, waiting, deferringTo: promised });
  };
  const tick = (): void => {
    timer = null;
    if (closed) return;
    // Armed first: nothing a check runs into can stop the watch.
    timer = clock.setTimeout(tick, options.checkIntervalMs);
    check();
  };
  tick();
  return {
    setWaiting(next) {
      if (closed || next === waiting) return;
      waiting = next;
      check();
    },
    setDeferringTo(chooser) {
      if (closed || chooser === deferringTo) return;
      deferringTo = chooser;
      check();
    },
    close() {
      if (closed) return;
      closed = true;
      if (timer !== null) clock.clearTimeout(timer);
      // The next watch (a rejoin under a fresh id) starts from nothing said: clear this one's report.
      if (said.count > 0) report({ named: [], count: 0, waiting, deferringTo: null });
    },
  };
}
