// What BroadcastChannel signaling posts: one envelope shape, a union on `type`, each sealed with
// an HMAC under the room's admission key when the room has a secret (and carrying no MAC when it
// has none, so open and secret clients of the same room name never mix). `sequence` rises per
// sender instance so a replayed envelope is dropped.
import { hasLoneSurrogate } from '../core/types.ts';
import { hmacHex, hmacVerify } from './hmac.ts';
import { signalingProtocolLimits } from './limits.ts';

export type BroadcastEnvelopeType = 'hello' | 'heartbeat' | 'goodbye' | 'signal' | 'refused';

export interface BroadcastEnvelope {
  readonly type: BroadcastEnvelopeType;
  readonly from: string;
  /** Random per client object: tells a restarted tab from a replay of its predecessor. */
  readonly instance: string;
  readonly sequence: number;
  /** `signal`: the addressee node id; `refused`: the refused instance. */
  readonly to: string;
  /** `signal`: the opaque payload; `refused`: why. */
  readonly payload: string;
  readonly mac: string | null;
}

const macLabel = 'raftmesh/broadcast/v1';
const types: ReadonlySet<string> = new Set<BroadcastEnvelopeType>(['hello', 'heartbeat', 'goodbye', 'signal', 'refused']);

const macFields = (roomId: string, envelope: Omit<BroadcastEnvelope, 'mac'>): string[] => [
  macLabel, roomId, envelope.type, envelope.from, envelope.instance, String(envelope.sequence), envelope.to, envelope.payload,
];

export async function sealEnvelope(key: CryptoKey | null, roomId: string, envelope: Omit<BroadcastEnvelope, 'mac'>): Promise<BroadcastEnvelope> {
  return { ...envelope, mac: key === null ? null : await hmacHex(key, macFields(roomId, envelope)) };
}

/** True when the envelope's MAC matches this client's configuration (key or no key). */
export async function envelopeAuthentic(key: CryptoKey | null, roomId: string, envelope: BroadcastEnvelope): Promise<boolean> {
  if (key === null || envelope.mac === null) return key === null && envelope.mac === null;
  return hmacVerify(key, macFields(roomId, envelope), envelope.mac);
}

const isBoundedString = (value: unknown, max: number): value is string => typeof value === 'string' && value.length <= max;
/** Ids must be valid NodeIds: bounded, and no lone surrogate (they cannot travel as UTF-8). */
const isIdString = (value: unknown): value is string => isBoundedString(value, signalingProtocolLimits.maxNodeIdLength) && !hasLoneSurrogate(value);

/** Validates a structured-clone value from the channel; anything else is dropped. */
export function parseEnvelope(value: unknown): BroadcastEnvelope | null {
  if (typeof value !== 'object' || value === null) return null;
  const fields = value as Record<string, unknown>;
  const { type, from, instance, sequence, to, payload, mac } = fields;
  const valid =
    typeof type === 'string' && types.has(type) &&
    isIdString(from) && from.length > 0 &&
    isBoundedString(instance, 64) &&
    typeof sequence === 'number' && Number.isSafeInteger(sequence) && sequence >= 0 &&
    isIdString(to) &&
    isBoundedString(payload, signalingProtocolLimits.maxMessageBytes) &&
    (mac === null || (typeof mac === 'string' && /^[0-9a-f]{64}$/.test(mac)));
  if (!valid) return null;
  return { type: type as BroadcastEnvelopeType, from, instance, sequence, to, payload, mac };
}
