// The checks a room's id, secret and signaling URL pass wherever they are configured: a
// signaling client, the WebRTC transport, joinRoom, an edge peer, the server's room table. A room
// no client can join, or a secret that proves nothing, is refused where it is written, with a
// clear error, instead of being found out when nobody ever meets.
import { hasLoneSurrogate } from '../core/types.ts';
import { signalingProtocolLimits } from './limits.ts';

/** A room id the signaling protocol carries: 1..128 characters, no control characters, well-formed text. */
export function requireRoomId(roomId: unknown, where: string): string {
  if (typeof roomId !== 'string' || roomId.length === 0 || roomId.length > signalingProtocolLimits.maxRoomIdLength) {
    throw new RangeError(`${where}: the room id must be 1 .. ${signalingProtocolLimits.maxRoomIdLength} characters, got ${describe(roomId)}`);
  }
  if (/[\x00-\x1f\x7f]/.test(roomId) || hasLoneSurrogate(roomId)) throw new RangeError(`${where}: the room id must be well-formed text without control characters, got ${describe(roomId)}`);
  return roomId;
}

/** Absent (an open room) or a non-empty string: an empty secret would key the room with nothing. */
export function requireOptionalSecret(secret: unknown, where: string): void {
  if (secret === undefined) return;
  if (typeof secret !== 'string' || secret.length === 0) throw new RangeError(`${where}: the room secret must be a non-empty string (leave it out for an open room)`);
}

/** A ws:// or wss:// URL with a host. */
export function isWebSocketUrl(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? (value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}… (${value.length} characters)` : JSON.stringify(value)) : typeof value;
}
