// The page's subscriptions to its node and store. A room replaces both (new objects) when the page
// rejoins under a fresh id after a wedge; subscriptions made once at the start would go on
// drawing, gossiping and noting the abandoned node's role, term and leader, as the demo did
// before 2026-12-02. This keeps them on the current incarnation.
import type { RaftNode } from 'raftmesh';

export interface Incarnation<Store> {
  readonly node: RaftNode;
  readonly store: Store;
}

export interface IncarnationFollower {
  /** Call on the room's `rejoined` event: drops the old node's subscriptions and subscribes to the new one. */
  rejoined(): void;
  stop(): void;
}

/**
 * Runs `subscribe` for the room's current node and store, and again after each rejoin; it returns
 * the unsubscribe functions of what it subscribed. A rejoin that leaves the node unchanged (one
 * reported before the page subscribed) changes nothing.
 */
export function followIncarnation<Store>(room: Incarnation<Store>, subscribe: (current: Incarnation<Store>) => ReadonlyArray<() => void>): IncarnationFollower {
  let node: RaftNode | null = room.node;
  let unsubscribes = subscribe({ node: room.node, store: room.store });
  const drop = (): void => {
    for (const unsubscribe of unsubscribes) unsubscribe();
    unsubscribes = [];
  };
  return {
    rejoined() {
      if (node === null || room.node === node) return;
      drop();
      node = room.node;
      unsubscribes = subscribe({ node: room.node, store: room.store });
    },
    stop() {
      drop();
      node = null;
    },
  };
}
