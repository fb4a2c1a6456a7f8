// The name of the BroadcastChannel between a bench page and its engine's worker
// (browser-node-worker.ts), apart from both so that neither loads the other's code.
export const frameWatchChannelName = (self: string): string => `raftmesh-bench-frames:${self}`;
