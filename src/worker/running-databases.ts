// Which databases the nodes of one workerNodeFactory have (from their start until their worker
// has closed the storage), so its discardStorage refuses to delete one under a running node. It
// used to delete it: the node's storage then failed, and the node with it (RaftClosedError on its
// next call), although the application had only passed the wrong id, or passed the id before
// leaving the room.
//
// Not until the node stops: a worker node's close() announces `stopped` before its worker has
// closed anything, and a node that stops by itself in its worker keeps its storage open there
// until close(). A discard in that window was let through (IndexedDbRaftStorage.destroy's lock
// makes it wait for the close, or refuse after its bound, but the registry said "not running").
import type { NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { workerReleased } from './worker-client.ts';

export interface RunningDatabases {
  /** Marks `database` as had by `id`'s node, starting now; the returned function ends that (idempotent). */
  begin(database: string, id: NodeId): () => void;
  /**
   * Ends the mark once `node`'s worker is let go: its close() has closed the node and storage in
   * the worker, or the worker was terminated (a crash, a close that timed out).
   */
  endWhenReleased(node: RaftNode, end: () => void): void;
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
    endWhenReleased(node, end) {
      const released = workerReleased(node);
      if (released === null) throw new TypeError('running-databases: not a node createWorkerRaftNode started');
      void released.then(end);
    },
    holder: (database) => holders.get(database)?.[0] ?? null,
  };
}
