// Presence inside a room: every peer tells the peers it reaches, in a small hello, whether it is
// visible and which cluster it follows; it repeats every gossip interval (a hello is lost with
// its link), at once when its visibility changes, and to each peer as it becomes reachable.
import type { Clock } from '../core/config.ts';
import type { Watchable } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import type { RoomChannel, RoomHello } from './room-channel.ts';

export type SelfDescription = Pick<RoomHello, 'member' | 'voters' | 'learners' | 'term' | 'leader' | 'startingAnyway' | 'deferringTo' | 'unreachable'>;

export interface HeardHello {
  readonly hello: RoomHello;
  readonly at: number;
}

export interface RoomPresence {
  /** The latest hello from a peer, if one arrived within the last few gossip intervals. */
  heard(peer: NodeId): HeardHello | undefined;
  /** Every recent hello (bounded by the reachable peers). */
  recent(): ReadonlyMap<NodeId, HeardHello>;
  /** What our hellos say about our cluster (changes once the node starts). */
  describeSelf(describe: () => SelfDescription): void;
  close(): void;
}

export interface RoomPresenceOptions {
  readonly channel: RoomChannel;
  readonly clock: Clock;
  readonly visible: Watchable<boolean>;
  readonly gossipIntervalMs: number;
  /** This peer never leads (a witness): its hellos say so, so no hidden leader hands leadership to it. */
  readonly neverLeads?: boolean;
}

/** A hello older than this many intervals is forgotten (its sender is gone or cut off). */
const staleAfterIntervals = 4;

/** How long a peer keeps a hello of ours as recent, with this gossip interval. */
export const helloLifetimeMs = (gossipIntervalMs: number): number => staleAfterIntervals * gossipIntervalMs;

export function createRoomPresence(options: RoomPresenceOptions): RoomPresence {
  const { channel, clock, gossipIntervalMs } = options;
  const heard = new Map<NodeId, HeardHello>();
  let describe = (): SelfDescription => ({ member: false, voters: null, term: 0, leader: null });
  let closed = false;
  const fresh = (entry: HeardHello | undefined): HeardHello | undefined => (entry !== undefined && clock.now() - entry.at <= staleAfterIntervals * gossipIntervalMs ? entry : undefined);

  const hello = (): RoomHello => ({ type: 'hello', visible: options.visible.value, ...describe(), ...(options.neverLeads === true ? { neverLeads: true } : {}) });
  const sendAll = (): void => {
    const message = hello();
    for (const peer of channel.transport.peers.value) channel.send(peer, message);
  };
  const unsubscribeHellos = channel.hellos.subscribe(({ from, hello: received }) => {
    if (!closed) heard.set(from, { hello: received, at: clock.now() });
  });
  let known = new Set(channel.transport.peers.value);
  const unsubscribePeers = channel.transport.peers.subscribe((peers) => {
    if (closed) return;
    for (const peer of peers) if (!known.has(peer)) channel.send(peer, hello());
    known = new Set(peers);
  });
  const unsubscribeVisible = options.visible.subscribe(() => {
    if (!closed) sendAll();
  });
  let timer: unknown = null;
  const tick = (): void => {
    timer = null;
    if (closed) return;
    for (const [peer, entry] of heard) if (fresh(entry) === undefined) heard.delete(peer);
    sendAll();
    timer = clock.setTimeout(tick, gossipIntervalMs);
  };
  tick();

  return {
    heard: (peer) => fresh(heard.get(peer)),
    recent: () => new Map([...heard].filter(([, entry]) => fresh(entry) !== undefined)),
    describeSelf(next) {
      describe = next;
      sendAll();
    },
    close() {
      closed = true;
      if (timer !== null) clock.clearTimeout(timer);
      unsubscribeHellos();
      unsubscribePeers();
      unsubscribeVisible();
    },
  };
}
