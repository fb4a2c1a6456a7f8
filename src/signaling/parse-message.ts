// The strict parser of the signaling protocol (messages.ts). Strict because the server faces the
// internet: every field is type-checked and bounded, unknown fields are refused (so a client
// cannot smuggle `from` into a signal), and the size is checked before JSON.parse runs.
import { hasLoneSurrogate } from '../core/types.ts';
import { signalingProtocolLimits } from './limits.ts';
import {
  signalingErrorCodes,
  type ClientMessage,
  type ServerMessage,
  type SignalingErrorCode,
  type SignalingMessage,
} from './messages.ts';

export type ParseResult<T> =
  | { readonly ok: true; readonly message: T }
  | { readonly ok: false; readonly error: { readonly code: SignalingErrorCode; readonly message: string } };

export type MessageDirection = 'from-client' | 'from-server' | 'any';

/** Thrown inside the parser only, turned into a `ParseResult` at its edge. */
class Refusal extends Error {
  constructor(readonly code: SignalingErrorCode, message: string) {
    super(message);
  }
}

const encoder = new TextEncoder();

/** Whether `text` fits in `maxBytes` of UTF-8, encoding only when the UTF-16 length cannot tell. */
export function fitsInBytes(text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return false; // every UTF-16 unit is at least one byte
  if (text.length * 3 <= maxBytes) return true; // and at most three
  return encoder.encode(text).length <= maxBytes;
}

type Fields = Readonly<Record<string, unknown>>;

function expectFields(object: Fields, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) throw new Refusal('malformed', `unexpected field ${JSON.stringify(key.slice(0, 64))} in ${String(object['type'])}`);
  }
}

function boundedString(object: Fields, field: string, maxLength: number, minLength = 1): string {
  const value = object[field];
  if (typeof value !== 'string') throw new Refusal('malformed', `${field} must be a string`);
  if (value.length < minLength || value.length > maxLength) {
    throw new Refusal('malformed', `${field} must be ${minLength} .. ${maxLength} characters, got ${value.length}`);
  }
  return value;
}

/** Ids are names: no control characters, which would only serve to confuse logs. */
function identifier(object: Fields, field: string, maxLength: number): string {
  const value = boundedString(object, field, maxLength);
  if (/[\x00-\x1f\x7f]/.test(value)) throw new Refusal('malformed', `${field} must not contain control characters`);
  // Every admitted id must be a valid NodeId, which refuses lone surrogates (they cannot travel as UTF-8).
  if (hasLoneSurrogate(value)) throw new Refusal('malformed', `${field} must be well-formed text (no lone surrogate)`);
  return value;
}

/** Nonces, proofs and node id claims: 32 bytes as lowercase hex. */
function hex32(object: Fields, field: string): string {
  const value = boundedString(object, field, 64, 64);
  if (!/^[0-9a-f]{64}$/.test(value)) throw new Refusal('malformed', `${field} must be 64 lowercase hex digits`);
  return value;
}

const roomId = (object: Fields): string => identifier(object, 'roomId', signalingProtocolLimits.maxRoomIdLength);
const node = (object: Fields, field: string): string => identifier(object, field, signalingProtocolLimits.maxNodeIdLength);
const payload = (object: Fields): string => boundedString(object, 'payload', signalingProtocolLimits.maxMessageBytes, 0);

function parseClientFields(object: Fields, type: ClientMessage['type']): ClientMessage {
  switch (type) {
    case 'hello': {
      expectFields(object, ['type', 'protocol', 'roomId', 'nodeId', 'claim']);
      const protocol = object['protocol'];
      if (typeof protocol !== 'number' || !Number.isSafeInteger(protocol) || protocol < 1) {
        throw new Refusal('malformed', 'protocol must be a positive integer');
      }
      const claim = object['claim'] === undefined ? {} : { claim: hex32(object, 'claim') };
      return { type, protocol, roomId: roomId(object), nodeId: node(object, 'nodeId'), ...claim };
    }
    case 'challenge-response':
      expectFields(object, ['type', 'proof']);
      return { type, proof: hex32(object, 'proof') };
    case 'signal':
      expectFields(object, ['type', 'to', 'payload']);
      return { type, to: node(object, 'to'), payload: payload(object) };
    case 'ping':
    case 'pong':
      expectFields(object, ['type']);
      return { type };
    default: {
      const unreachable: never = type;
      return unreachable;
    }
  }
}

function peerList(object: Fields): string[] {
  const peers = object['peers'];
  if (!Array.isArray(peers)) throw new Refusal('malformed', 'peers must be an array');
  if (peers.length > signalingProtocolLimits.maxPeersListed) throw new Refusal('malformed', 'too many peers listed');
  return peers.map((_, index) => node(peers as unknown as Fields, String(index)));
}

function parseServerFields(object: Fields, type: ServerMessage['type']): ServerMessage {
  switch (type) {
    case 'challenge':
      expectFields(object, ['type', 'nonce']);
      return { type, nonce: hex32(object, 'nonce') };
    case 'joined':
      expectFields(object, ['type', 'roomId', 'nodeId', 'peers']);
      return { type, roomId: roomId(object), nodeId: node(object, 'nodeId'), peers: peerList(object) };
    case 'peer-joined':
    case 'peer-left':
      expectFields(object, ['type', 'nodeId']);
      return { type, nodeId: node(object, 'nodeId') };
    case 'signal':
      expectFields(object, ['type', 'from', 'payload']);
      return { type, from: node(object, 'from'), payload: payload(object) };
    case 'error': {
      expectFields(object, ['type', 'code', 'message']);
      const code = object['code'];
      if (typeof code !== 'string' || !signalingErrorCodes.has(code as SignalingErrorCode)) {
        throw new Refusal('malformed', 'error code is not one of the protocol');
      }
      const message = boundedString(object, 'message', signalingProtocolLimits.maxErrorMessageLength, 0);
      return { type, code: code as SignalingErrorCode, message };
    }
    case 'ping':
    case 'pong':
      expectFields(object, ['type']);
      return { type };
    default: {
      const unreachable: never = type;
      return unreachable;
    }
  }
}

const clientTypes: ReadonlySet<string> = new Set<ClientMessage['type']>(['hello', 'challenge-response', 'signal', 'ping', 'pong']);
const serverTypes: ReadonlySet<string> = new Set<ServerMessage['type']>([
  'challenge', 'joined', 'peer-joined', 'peer-left', 'signal', 'error', 'ping', 'pong',
]);

function parseObject(text: string, maxBytes: number): Fields {
  if (!fitsInBytes(text, maxBytes)) throw new Refusal('too-large', `message exceeds ${maxBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (_error) {
    throw new Refusal('malformed', 'message is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Refusal('malformed', 'message must be a JSON object');
  if (typeof (value as Fields)['type'] !== 'string') throw new Refusal('malformed', 'message must have a string `type`');
  return value as Fields;
}

function dispatch(object: Fields, direction: MessageDirection): SignalingMessage {
  const type = object['type'] as string;
  // `signal` differs by direction (`to` from a client, `from` from the server).
  const tryClient = direction !== 'from-server' && clientTypes.has(type);
  const tryServer = direction !== 'from-client' && serverTypes.has(type);
  if (!tryClient && !tryServer) throw new Refusal('unknown-type', `unknown message type ${JSON.stringify(type.slice(0, 64))}`);
  if (tryClient && (!tryServer || !('from' in object))) return parseClientFields(object, type as ClientMessage['type']);
  return parseServerFields(object, type as ServerMessage['type']);
}

/**
 * Parses one frame. `direction` narrows what is acceptable: the server parses `from-client`, a
 * client `from-server`. `maxBytes` may tighten (never loosen) the protocol's size cap.
 */
export function parseSignalingMessage(text: string, options: { direction?: 'any'; maxBytes?: number }): ParseResult<SignalingMessage>;
export function parseSignalingMessage(text: string, options: { direction: 'from-client'; maxBytes?: number }): ParseResult<ClientMessage>;
export function parseSignalingMessage(text: string, options: { direction: 'from-server'; maxBytes?: number }): ParseResult<ServerMessage>;
export function parseSignalingMessage(text: string, options?: { direction?: MessageDirection; maxBytes?: number }): ParseResult<SignalingMessage>;
export function parseSignalingMessage(
  text: string,
  options: { direction?: MessageDirection; maxBytes?: number } = {},
): ParseResult<SignalingMessage> {
  const maxBytes = Math.min(options.maxBytes ?? Infinity, signalingProtocolLimits.maxMessageBytes);
  try {
    if (typeof text !== 'string') throw new Refusal('malformed', 'message must be text');
    return { ok: true, message: dispatch(parseObject(text, maxBytes), options.direction ?? 'any') };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, error: { code: error.code, message: error.message } };
    throw error;
  }
}
