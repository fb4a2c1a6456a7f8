// joinRoom's default createNode: the engine on this thread, loaded when a room first needs it
// rather than with the room's code. A page whose engine runs in a worker (`createNode:
// workerNodeFactory(…)`, as in the README's app) would otherwise carry the whole engine a second
// time, about a third of its JavaScript (`npm run bench -- bundle`; bundlers put a dynamic
// import's module in a chunk of its own, fetched on first use). joinRoom starts the load as it
// begins, so an app on the default fetches the engine while the room meets its peers and joins no
// later than before.
import type { RaftNode, RaftNodeOptions } from '../driver/node-options.ts';

type CreateNode = (options: RaftNodeOptions) => Promise<RaftNode>;

let loading: Promise<CreateNode> | null = null;

/**
 * The engine's createRaftNode, loaded once per page (or process). A load that failed (the chunk
 * could not be fetched: offline, a new deployment) is forgotten, so the next join tries again
 * rather than failing for the rest of the page's life.
 */
export function loadDefaultCreateNode(): Promise<CreateNode> {
  loading ??= import('../driver/create-raft-node.ts').then(
    (engine) => engine.createRaftNode,
    (error: unknown) => {
      loading = null;
      throw error;
    },
  );
  return loading;
}
