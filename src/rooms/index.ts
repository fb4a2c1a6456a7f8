// Rooms: the high-level API for applications (README "Rooms").
export { createReplicatedStore } from './replicated-store.ts';
export type { DispatchResult, ReplicatedStore, ReplicatedStoreOptions, StoreStats } from './replicated-store.ts';
export { jsonSerializer } from './serializer.ts';
export type { Serializer } from './serializer.ts';
export { joinRoom } from './join-room.ts';
export type { JoinRoomOptions, JoinRoomOptionsWithNode, NodeFactory, Room, SignalingContext } from './join-room.ts';
export type { StoredNodeState } from '../storage/stored-node-state.ts';
export { createMembershipPolicy, decideMembershipChange, defaultMembershipPolicySettings, validatePolicySettings } from './membership-policy.ts';
export type { MembershipDecision, MembershipPolicy, MembershipPolicySettings, MembershipView } from './membership-policy.ts';
export type { RoomEvent } from './room-coordinator.ts';
export { documentVisibility, manualVisibility } from './visibility.ts';
export type { VisibilitySource } from './visibility.ts';
export { defaultKeyValueStore, memoryKeyValueStore } from './room-identity.ts';
export type { KeyValueStore } from './room-identity.ts';
export type { RoomHello } from './room-channel.ts';
export { loadNodeClaim, loadOrMintNodeId, loadOrMintNodeIdentity, mintNodeIdentity, saveNodeIdentity } from './room-identity.ts';
export type { NodeIdentity } from './room-identity.ts';
export { claimTabIdentity } from './tab-identity.ts';
