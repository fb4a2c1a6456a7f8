// raftmesh/signaling-server (Node): the signaling server and what configures it.
export { startSignalingServer } from './signaling-server.ts';
export type { SignalingServer, SignalingServerOptions, SignalingServerStats } from './signaling-server.ts';
export type { RoomPolicy, RoomResolver, RoomTable } from './room-policy.ts';
export type { SignalingServerEvent } from './events.ts';
export { describeServerEvent } from './events.ts';
export { deriveAdmissionKey } from '../admission.ts';
export { defaultSignalingServerLimits, type SignalingServerLimits } from '../limits.ts';
