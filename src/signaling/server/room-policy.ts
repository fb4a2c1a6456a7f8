// Which rooms a server serves and how each admits. A room is open (anyone may join) or keyed
// (a client must answer a challenge with the room's admission key; admission.ts). The server is
// best given the derived admission key, not the secret: then even its operator cannot
// impersonate peers. A secret is accepted for convenience and immediately reduced to the key.
import { deriveAdmissionKey, importAdmissionKey } from '../admission.ts';
import { requireOptionalSecret, requireRoomId } from '../room-settings.ts';

export interface RoomPolicy {
  /** The room secret (reduced to its admission key at once; see admission.ts). */
  readonly secret?: string;
  /** 64 hex digits from `deriveAdmissionKey(secret, roomId)`: preferred over `secret`. */
  readonly admissionKey?: string;
}

export type RoomTable = Readonly<Record<string, RoomPolicy>>;
/** Looked up at each join; null refuses the room. May be async (a database, a config service). */
export type RoomResolver = (roomId: string) => RoomPolicy | null | Promise<RoomPolicy | null>;

export type RoomAdmission =
  | { readonly type: 'open' }
  | { readonly type: 'keyed'; readonly key: CryptoKey }
  | { readonly type: 'unknown' };

export type RoomLookup = (roomId: string) => Promise<RoomAdmission>;

async function admissionFor(roomId: string, policy: RoomPolicy): Promise<RoomAdmission> {
  if (policy.admissionKey !== undefined) return { type: 'keyed', key: await importAdmissionKey(policy.admissionKey) };
  if (policy.secret !== undefined) return { type: 'keyed', key: await importAdmissionKey(await deriveAdmissionKey(policy.secret, roomId)) };
  return { type: 'open' };
}

/**
 * No `rooms`: every room is open. A table: its rooms, keyed as listed; other rooms are open
 * only with `allowUnlistedRooms`. A resolver: whatever it answers at the time of the join.
 */
export async function createRoomLookup(rooms: RoomTable | RoomResolver | undefined, allowUnlistedRooms: boolean): Promise<RoomLookup> {
  if (rooms === undefined) return () => Promise.resolve({ type: 'open' });
  if (typeof rooms === 'function') {
    return async (roomId) => {
      const policy = await rooms(roomId);
      return policy === null ? { type: 'unknown' } : admissionFor(roomId, policy);
    };
  }
  const table = new Map<string, RoomAdmission>();
  for (const [roomId, policy] of Object.entries(rooms)) {
    // A room no client can name (the protocol's bounds), or keyed with an empty secret, would
    // start and never admit anyone: refused here.
    requireRoomId(roomId, 'startSignalingServer rooms');
    requireOptionalSecret(policy.secret, `startSignalingServer rooms[${JSON.stringify(roomId)}]`);
    table.set(roomId, await admissionFor(roomId, policy));
  }
  const unlisted: RoomAdmission = allowUnlistedRooms ? { type: 'open' } : { type: 'unknown' };
  return (roomId) => Promise.resolve(table.get(roomId) ?? unlisted);
}
