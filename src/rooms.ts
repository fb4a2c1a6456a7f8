// raftmesh/rooms: joinRoom without a built-in engine, for pages that run theirs elsewhere
// (`createNode: workerNodeFactory(…)` from raftmesh/worker). The root's joinRoom defaults to
// createRaftNode on this thread and so brings the whole engine into every bundle that imports it,
// used or not. Everything else the rooms API offers comes from the root, which a bundler shakes.
export { joinRoomWithoutEngine as joinRoom } from './rooms/join-room-without-engine.ts';
export type { JoinRoomOptionsWithNode, NodeFactory, Room, SignalingContext } from './rooms/join-room-options.ts';
export type { TransportContext } from './rooms/transport-context.ts';
export type { StoredNodeState } from './storage/stored-node-state.ts';
export type { RoomEvent } from './rooms/room-coordinator.ts';
export type { FollowerUnsubscribes, RoomIncarnation } from './rooms/incarnation-followers.ts';
