// Rooms and their members. A room exists while it has a member. Membership bounds (peers per
// room, rooms per server) are checked here, at the single place where a member is added.
import { signalingProtocolLimits, type SignalingServerLimits } from '../limits.ts';
import { encodeSignalingMessage, type ServerMessage } from '../messages.ts';
import { fitsInBytes } from '../parse-message.ts';

export interface RoomMember {
  readonly nodeId: string;
  send(message: ServerMessage): void;
  /** The same node id joined on another socket, and this one did not answer: it is told and closed. */
  replace(): void;
  /**
   * Whether this socket is alive: true once it sends anything after a ping, false if it sends
   * nothing within `timeoutMs` or closes. One ping answers every probe in flight.
   */
  probe(timeoutMs: number): Promise<boolean>;
}

export type JoinOutcome =
  | { readonly ok: true; readonly peers: readonly string[] }
  | { readonly ok: false; readonly code: 'room-full' | 'server-full' | 'member-in-use'; readonly message: string };

export interface RoomRegistry {
  /**
   * Adds `member`. A member holding its node id is replaced only if it is `replacing` (the one a
   * probe found silent); any other holder refuses the join with `member-in-use`.
   */
  join(roomId: string, member: RoomMember, replacing?: RoomMember): JoinOutcome;
  /** Removes `member` if it is still the room's holder of its node id; true if it was. */
  leave(roomId: string, member: RoomMember): boolean;
  find(roomId: string, nodeId: string): RoomMember | undefined;
  size(roomId: string): number;
  readonly roomCount: number;
  readonly memberCount: number;
}

function broadcast(room: ReadonlyMap<string, RoomMember>, message: ServerMessage, except: RoomMember): void {
  for (const member of room.values()) if (member !== except) member.send(message);
}

/**
 * Whether the `joined` message a newcomer gets, listing the room's other ids, fits in what every
 * client reads. maxPeersPerRoom goes up to 1024 and an id to 770 bytes of JSON, so a full room's
 * list could be three times that: a newcomer's parser refused its own `joined`, and it reconnected
 * and was refused again, for good, never joining.
 */
function joinedMessageFits(roomId: string, nodeId: string, peers: readonly string[]): boolean {
  return fitsInBytes(encodeSignalingMessage({ type: 'joined', roomId, nodeId, peers }), signalingProtocolLimits.maxMessageBytes);
}

export function createRoomRegistry(limits: SignalingServerLimits): RoomRegistry {
  const rooms = new Map<string, Map<string, RoomMember>>();
  let memberCount = 0;

  function admit(roomId: string, member: RoomMember, replacing: RoomMember | undefined): Map<string, RoomMember> | JoinOutcome {
    const room = rooms.get(roomId);
    if (room === undefined) {
      if (rooms.size >= limits.maxRooms) return { ok: false, code: 'server-full', message: `the server serves at most ${limits.maxRooms} rooms` };
      const created = new Map<string, RoomMember>();
      rooms.set(roomId, created);
      return created;
    }
    const previous = room.get(member.nodeId);
    if (previous !== undefined && previous !== replacing) {
      // Taken while the newcomer probed the one before (or never probed): it asks again later.
      return { ok: false, code: 'member-in-use', message: `node id ${JSON.stringify(member.nodeId)} is held by a live connection in room ${JSON.stringify(roomId)}` };
    }
    if (previous === undefined && room.size >= limits.maxPeersPerRoom) {
      return { ok: false, code: 'room-full', message: `room ${JSON.stringify(roomId)} already has ${limits.maxPeersPerRoom} peers` };
    }
    const others = [...room.keys()].filter((id) => id !== member.nodeId);
    if (!joinedMessageFits(roomId, member.nodeId, others)) {
      return { ok: false, code: 'room-full', message: `room ${JSON.stringify(roomId)} has more peer ids (${others.length}) than one message to a newcomer can list (${signalingProtocolLimits.maxMessageBytes} bytes)` };
    }
    if (previous !== undefined) {
      // A holder that answered no ping: after a network change the old socket may linger
      // half-open for a while, and the reconnecting node must not be locked out of its own id.
      room.delete(member.nodeId);
      memberCount--;
      previous.replace();
      broadcast(room, { type: 'peer-left', nodeId: member.nodeId }, previous);
    }
    return room;
  }

  return {
    join(roomId, member, replacing) {
      const room = admit(roomId, member, replacing);
      if (!(room instanceof Map)) return room;
      const peers = [...room.keys()];
      room.set(member.nodeId, member);
      memberCount++;
      return { ok: true, peers };
    },
    leave(roomId, member) {
      const room = rooms.get(roomId);
      if (room?.get(member.nodeId) !== member) return false;
      room.delete(member.nodeId);
      memberCount--;
      if (room.size === 0) rooms.delete(roomId);
      else broadcast(room, { type: 'peer-left', nodeId: member.nodeId }, member);
      return true;
    },
    find: (roomId, nodeId) => rooms.get(roomId)?.get(nodeId),
    size: (roomId) => rooms.get(roomId)?.size ?? 0,
    get roomCount() {
      return rooms.size;
    },
    get memberCount() {
      return memberCount;
    },
  };
}

/** Tells the rest of the room about a member that has just joined. */
export function announceJoin(registry: RoomRegistry, roomId: string, member: RoomMember, peers: readonly string[]): void {
  for (const peer of peers) registry.find(roomId, peer)?.send({ type: 'peer-joined', nodeId: member.nodeId });
}
