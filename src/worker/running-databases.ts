// Which databases the nodes of one workerNodeFactory have (from their start until they stop), so
// its discardStorage refuses to delete one under a running node. It used to delete it: the
// node's storage then failed, and the node with it (RaftClosedError on its next call), although
// the application had only passed the wrong id, or passed the id before leaving the room.
import type { NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';

export interface RunningDatabases {
  /** Marks `database` as had by `id`'s node, starting now; the returned function ends that (idempotent). */
  begin(database: string, id: NodeId): () => void;
  /** Ends the mark when `node` stops (close(), a storage failure, its worker's death). */
  endWhenStopped(node: RaftNode, end: () => void): void;
  /** The id of a node that has `database`, or null when none does. */
  holder(database: string): NodeId | null;
}

export function createRunningDatabases(): RunningDatabases {
  /** Per database, the ids of the nodes that have it (two only while a second start is being refused). */
  const holders = new Map<string, NodeId[]>();
  return {
    begin(database, id) {
      holders.set(database, [...(holders.get(database) ?? []), id]);
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        const rest = [...(holders.get(database) ?? [])];
        rest.splice(rest.indexOf(id), 1);
        if (rest.length === 0) holders.delete(database);
        else holders.set(database, rest);
      };
    },
    endWhenStopped(node, end) {
      if (node.stopped.value !== null) {
        end();
        return;
      }
      const unsubscribe = node.stopped.subscribe((stopped) => {
        if (stopped === null) return;
        unsubscribe();
        end();
      });
    },
    holder: (database) => holders.get(database)?.[0] ?? null,
  };
}
