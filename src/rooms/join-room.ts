// The root's joinRoom: the room API with this thread's engine (createRaftNode) as the default
// node. A page whose engine runs in a worker takes `raftmesh/rooms`'s joinRoom instead
// (join-room-without-engine.ts), which names no engine, so the page's bundle carries none.
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { JoinRoomOptions, Room } from './join-room-options.ts';
import { joinRoomWith } from './join-room-with.ts';

export type { JoinRoomOptions, JoinRoomOptionsWithNode, NodeFactory, Room, SignalingContext } from './join-room-options.ts';
export type { TransportContext } from './transport-context.ts';

export function joinRoom<State, Command>(options: JoinRoomOptions<State, Command>): Promise<Room<State, Command>> {
  return joinRoomWith(options, createRaftNode);
}
