// Rooms: the high-level API for applications (README "Rooms").
export { createReplicatedStore } from './replicated-store.ts';
export type { DispatchResult, ReplicatedStore, ReplicatedStoreOptions, StoreStats } from './replicated-store.ts';
export { jsonSerializer } from './serializer.ts';
export type { Serializer } from './serializer.ts';
export { joinRoom } from './join-room.ts';
export type { JoinRoomOptions, Room, SignalingContext } from './join-room.ts';
export type { RoomEvent } from './room-coordinator.ts';
export type { KeyValueStore } from './room-identity.ts';
