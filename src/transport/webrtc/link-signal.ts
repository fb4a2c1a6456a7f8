// What two transports say to each other through signaling (an opaque string to the signaling
// layer). Every message names the connection attempt (`session`, chosen by the initiator) it
// belongs to, so candidates of an abandoned attempt never reach its successor.
//
//   connection       an offer, answer, candidate or renegotiation of that session; `restart: true`
//                    on an offer that is not the connection's first (an ICE restart's)
//   connect-request  from the answerer: "I have no working connection, offer me one"
//   ice-restart      from the answerer: "ICE disconnected on this session, restart it"
//
// The parser is strict and bounded: signaling relays what anyone in the room sends. Being strict,
// a parser of an earlier version refuses a signal with a field it does not know, `restart`
// included: the initiator marks restart offers only for an answerer that said it reads the mark
// (restartMarksAnnouncement), and sends them as before to any other.
import type { ConnectionSignal, IceCandidate } from './connection-signal.ts';

export type LinkSignal =
  | { readonly type: 'connection'; readonly session: string; readonly signal: ConnectionSignal; readonly restart?: true }
  | { readonly type: 'connect-request'; readonly session: string }
  | { readonly type: 'ice-restart'; readonly session: string };

/**
 * What an answerer says on the control channel once its session is ready: "I read `restart` on
 * offers". A peer of an earlier version takes it as text after its handshake ended, and ignores it.
 */
export const restartMarksAnnouncement = JSON.stringify({ type: 'restart-marks' });

const maxSessionLength = 64;
const maxSdpLength = 128 * 1024;
const maxCandidateLength = 4096;

export function encodeLinkSignal(signal: LinkSignal): string {
  return JSON.stringify(signal);
}

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isBoundedString = (value: unknown, max: number): value is string => typeof value === 'string' && value.length <= max;
const hasOnly = (fields: Fields, keys: readonly string[]): boolean => Object.keys(fields).every((key) => keys.includes(key));

function parseCandidate(value: unknown): IceCandidate | null {
  if (!isObject(value) || !hasOnly(value, ['candidate', 'sdpMid', 'sdpMLineIndex'])) return null;
  const { candidate, sdpMid = null, sdpMLineIndex = null } = value;
  if (!isBoundedString(candidate, maxCandidateLength)) return null;
  if (sdpMid !== null && !isBoundedString(sdpMid, 256)) return null;
  if (sdpMLineIndex !== null && !(typeof sdpMLineIndex === 'number' && Number.isInteger(sdpMLineIndex) && sdpMLineIndex >= 0 && sdpMLineIndex < 1024)) return null;
  // RTCIceCandidate's constructor throws without either (webrtc-pc, and node-datachannel's
  // polyfill), and simple-peer constructs it synchronously inside signal(): such a candidate
  // ended a Node process as an unhandled rejection. No browser sends one.
  if (sdpMid === null && sdpMLineIndex === null) return null;
  return { candidate, sdpMid, sdpMLineIndex };
}

function parseConnectionSignal(value: unknown): ConnectionSignal | null {
  if (!isObject(value)) return null;
  if (value['type'] === 'renegotiate' && hasOnly(value, ['type'])) return { type: 'renegotiate' };
  if (value['type'] === 'candidate' && hasOnly(value, ['type', 'candidate'])) {
    const candidate = parseCandidate(value['candidate']);
    return candidate === null ? null : { type: 'candidate', candidate };
  }
  if (value['type'] === 'description' && hasOnly(value, ['type', 'description'])) {
    const description = value['description'];
    if (!isObject(description) || !hasOnly(description, ['type', 'sdp'])) return null;
    const { type, sdp } = description;
    if ((type !== 'offer' && type !== 'answer') || !isBoundedString(sdp, maxSdpLength)) return null;
    return { type: 'description', description: { type, sdp } };
  }
  return null;
}

/** The signal, or null for anything malformed (the caller counts it and moves on). */
export function parseLinkSignal(text: string): LinkSignal | null {
  if (text.length > maxSdpLength + 1024) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (_error) {
    return null;
  }
  if (!isObject(value) || !isBoundedString(value['session'], maxSessionLength)) return null;
  const session = value['session'];
  if ((value['type'] === 'connect-request' || value['type'] === 'ice-restart') && hasOnly(value, ['type', 'session'])) {
    return { type: value['type'], session };
  }
  if (value['type'] === 'connection' && hasOnly(value, ['type', 'session', 'signal', 'restart'])) {
    const signal = parseConnectionSignal(value['signal']);
    if (signal === null) return null;
    if (!('restart' in value)) return { type: 'connection', session, signal };
    // Only an offer is a restart's, and the mark is only ever `true` (absent otherwise).
    const isOffer = signal.type === 'description' && signal.description.type === 'offer';
    return value['restart'] === true && isOffer ? { type: 'connection', session, signal, restart: true } : null;
  }
  return null;
}
