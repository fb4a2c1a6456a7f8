// Room.follow: subscriptions that stay on the room's current node and store. A room replaces both
// (new objects) when the peer rejoins under a fresh id after a wedge, so subscriptions made once at
// the start would go on following the abandoned node: its role, term and leader frozen, its store
// no longer folding. Every app had to carry what the demo carried for it
// (demo/app/follow-incarnation.ts, until 2026-12-07: a newcomer copying the demo found it there
// only). Here each follower's `subscribe` runs for the current incarnation, and again after each
// rejoin, once the old one's unsubscribes have run.
import type { NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import type { ReplicatedStore } from './store-options.ts';

export interface RoomIncarnation<State, Command> {
  readonly id: NodeId;
  readonly node: RaftNode;
  readonly store: ReplicatedStore<State, Command>;
}

/** What `subscribe` gives back: its unsubscribes (one, several, or none). */
export type FollowerUnsubscribes = ReadonlyArray<() => void> | (() => void) | undefined | void;

export interface IncarnationFollowers<State, Command> {
  /** Subscribes for `current` now and after every `moved`; the returned function stops it (idempotent). */
  add(subscribe: (current: RoomIncarnation<State, Command>) => FollowerUnsubscribes, current: RoomIncarnation<State, Command>): () => void;
  /** The room now runs `current`: every follower unsubscribes from the old one and subscribes to it. */
  moved(current: RoomIncarnation<State, Command>): void;
  /** The room was left: every follower unsubscribes, and none subscribes again. */
  stopAll(): void;
}

interface Follower<State, Command> {
  readonly subscribe: (current: RoomIncarnation<State, Command>) => FollowerUnsubscribes;
  unsubscribes: ReadonlyArray<() => void>;
}

export function createIncarnationFollowers<State, Command>(): IncarnationFollowers<State, Command> {
  const followers = new Set<Follower<State, Command>>();
  let stopped = false;
  return {
    add(subscribe, current) {
      if (typeof subscribe !== 'function') throw new TypeError('Room.follow needs a function (current: { id, node, store }) => unsubscribe functions');
      const follower: Follower<State, Command> = { subscribe, unsubscribes: [] };
      if (stopped) return () => undefined;
      // Called before it is added: a subscribe that throws is the caller's error, and follows nothing.
      follower.unsubscribes = unsubscribesOf(subscribe(current));
      followers.add(follower);
      return () => {
        if (!followers.delete(follower)) return;
        unsubscribeAll(follower);
      };
    },
    moved(current) {
      for (const follower of followers) {
        unsubscribeAll(follower);
        try {
          follower.unsubscribes = unsubscribesOf(follower.subscribe(current));
        } catch (error) {
          // One follower's failure must not keep the others on the old node: reported, not thrown
          // into the rejoin (as the observables report a listener's).
          void Promise.reject(error);
        }
      }
    },
    stopAll() {
      stopped = true;
      for (const follower of followers) unsubscribeAll(follower);
      followers.clear();
    },
  };
}

function unsubscribesOf(result: FollowerUnsubscribes): ReadonlyArray<() => void> {
  if (result === undefined) return [];
  if (typeof result === 'function') return [result];
  if (!Array.isArray(result) || !result.every((item) => typeof item === 'function')) {
    throw new TypeError('Room.follow: subscribe must return its unsubscribe functions (a function, an array of them, or nothing)');
  }
  return result;
}

function unsubscribeAll<State, Command>(follower: Follower<State, Command>): void {
  const unsubscribes = follower.unsubscribes;
  follower.unsubscribes = [];
  for (const unsubscribe of unsubscribes) {
    try {
      unsubscribe();
    } catch (error) {
      void Promise.reject(error);
    }
  }
}
