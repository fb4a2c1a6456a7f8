// raftmesh/worker (API.md "Subpath entries"): the engine and its storage in a Web Worker, the
// same RaftNode on the page. Browser only.
export { createWorkerRaftNode } from './worker/worker-client.ts';
export { workerNodeFactory } from './worker/worker-node-factory.ts';
export type { WorkerNodeFactory, WorkerNodeFactoryOptions } from './worker/worker-node-factory.ts';
export type { StoredNodeState } from './storage/stored-node-state.ts';
export type { TransportPort, WorkerEndpoint, WorkerRaftNodeOptions, WorkerTransport } from './worker/worker-client.ts';
export type { WorkerRaftConfig, WorkerStorageOptions } from './worker/protocol.ts';
export { WorkerCrashedError } from './worker/error-transfer.ts';
export { serveTransport } from './worker/transport-bridge.ts';
export { exposeWorkerNode } from './worker/expose-worker-node.ts';
export type { WorkerNodeHostOptions } from './worker/worker-host.ts';
