// `raftmesh/rooms`'s joinRoom: the same room API, with no engine of its own. The caller's
// createNode starts the node (workerNodeFactory for an engine in a worker), and nothing here
// reaches createRaftNode, so a bundler leaves the engine out of the page (bench/bundle-size.ts).
import type { JoinRoomOptionsWithNode, Room } from './join-room-options.ts';
import { joinRoomWith } from './join-room-with.ts';

export function joinRoomWithoutEngine<State, Command>(options: JoinRoomOptionsWithNode<State, Command>): Promise<Room<State, Command>> {
  return joinRoomWith(options, null);
}
