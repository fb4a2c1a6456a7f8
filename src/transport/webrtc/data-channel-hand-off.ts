// Handing a connection's data path to the engine's worker. With the engine in a worker, every
// Raft frame used to cross the page twice: worker -> page -> data channel, and data channel ->
// page -> worker. A page busy rendering (or stalled by the machine) then delayed heartbeats of a
// healthy engine, and each commit paid about four extra thread crossings. RTCPeerConnection exists
// only on the page, but Chromium can transfer an RTCDataChannel to a worker in the task that
// created it, so every connection carries two more channels (ids 2 and 3, peer-connection.ts):
//
// - The page keeps the connection, the handshake, ICE and reconnection, and channels 0 and 1,
//   which carry frames sent from the page (room hellos, and everything to or from a peer that
//   predates this).
// - Channels 2 and 3 of a connection opened while an engine's worker is attached
//   (RaftTransport.serveDataChannelsTo) go to that worker at once; the worker sends Raft frames on
//   them and receives frames the peer's worker sends, with the same framing and bounds as the page
//   (data-path.ts). Where nothing is attached, or the runtime cannot transfer channels
//   (postMessage refuses them; Node has no workers to give them to), the page keeps them and
//   delivers what arrives on them like channel 0 and 1 traffic.
// - The page says what the worker may do with them, per session: deliver what arrives once the
//   handshake verified the peer (a bounded few that arrive first wait), and send once the peer
//   said it listens on them too (`engine-channels`, a text message after the handshake, sent once
//   the worker said it took them or the page kept them; a peer that predates it never says so,
//   and never receives anything on channels it does not have). When the worker goes away the page
//   withdraws it (`engine-channels-withdrawn`), and the peer sends through its page again.
// - When another worker attaches (an engine restarted, or a room's node started on a page that
//   was already connected), the connection stays: the initiator opens a fresh pair of negotiated
//   channels on it, generation g with ids 2g+2 and 2g+3, and says so (`engine-channels-open`);
//   the answerer creates the same pair when it reads that, and asks for one
//   (`engine-channels-request`) when its own worker changed. Each side hands the new pair to its
//   worker in the creating task (or keeps it), closes the pair before, and announces the
//   generation it listens on; a worker sends only on the generation both sides listen on. A
//   connection not ready yet gets its pair once it is; a peer that never announced gets none; a
//   connection past `handOffLimits.maxEngineChannelGenerations` is closed, and the next one takes
//   its channels to the worker.
//
// The messages are plain data apart from the transferred channels, and cross a MessagePort.
import type { NodeId } from '../../core/types.ts';
import type { WebRtcTransportCounters } from './counters.ts';
import { handOffLimits, type WebRtcTransportLimits } from './limits.ts';
import type { EngineChannel } from './peer-connection.ts';

/**
 * Sent on channel 0 after the handshake, once this side listens on channels 2 and 3 (the worker
 * took them, or the page kept them): the peer's worker may send there from then on.
 */
export const engineChannelsAnnouncement = JSON.stringify({ type: 'engine-channels' });
/** Sent when the worker that took them is going away: send through channels 0 and 1 again. */
export const engineChannelsWithdrawal = JSON.stringify({ type: 'engine-channels-withdrawn' });

/** What the pages say to each other about engine channels, on channel 0 after the handshake. */
export type EngineChannelText =
  /** This side listens on generation `generation` (0: `engineChannelsAnnouncement`). */
  | { readonly type: 'listening'; readonly generation: number }
  /** This side listens on no engine channels any more. */
  | { readonly type: 'withdrawn' }
  /** The initiator opened generation `generation`: create the same pair. */
  | { readonly type: 'open'; readonly generation: number }
  /** The answerer, at generation `generation`, wants a fresh pair for its new worker. */
  | { readonly type: 'request'; readonly generation: number };

const textTypes = { listening: 'engine-channels', open: 'engine-channels-open', request: 'engine-channels-request' } as const;
/** Longer texts are not ours: they are not parsed. */
const maxTextLength = 80;

export function encodeEngineChannelText(text: EngineChannelText): string {
  if (text.type === 'withdrawn') return engineChannelsWithdrawal;
  if (text.type === 'listening' && text.generation === 0) return engineChannelsAnnouncement;
  return JSON.stringify({ type: textTypes[text.type], generation: text.generation });
}

/** Null for anything else (a handshake message, or a text of a later version). */
export function parseEngineChannelText(text: string): EngineChannelText | null {
  if (text === engineChannelsAnnouncement) return { type: 'listening', generation: 0 };
  if (text === engineChannelsWithdrawal) return { type: 'withdrawn' };
  if (text.length > maxTextLength || !text.startsWith('{"type":"engine-channels')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (_error) {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { type, generation } = parsed as { readonly type?: unknown; readonly generation?: unknown };
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0 || generation > handOffLimits.maxEngineChannelGenerations) return null;
  for (const name of ['listening', 'open', 'request'] as const) {
    if (type === textTypes[name]) return { type: name, generation };
  }
  return null;
}

/** Page -> worker. */
export type DataChannelHandOff =
  /**
   * A new session's channels 2 and 3, or a later pair on its connection, transferred. `session`
   * names the pair in every message about it: the session's id, then `/<generation>` for a later pair.
   */
  | {
      readonly type: 'dataChannels';
      readonly peer: NodeId;
      readonly session: string;
      readonly control: EngineChannel;
      readonly bulk: EngineChannel;
      readonly limits: WebRtcTransportLimits;
    }
  /** What the worker may do with a session's channels now (both start false). */
  | { readonly type: 'dataChannelsState'; readonly peer: NodeId; readonly session: string; readonly deliver: boolean; readonly send: boolean }
  /** The session ended, or a newer pair replaced this one, or the worker must let it go: close it. */
  | { readonly type: 'dataChannelsClosed'; readonly peer: NodeId; readonly session: string };

/** Worker -> page. */
export type DataChannelGuestMessage =
  /** The counters of everything the worker sent and received on its channels. */
  | { readonly type: 'dataChannelCounters'; readonly counters: WebRtcTransportCounters }
  /** The worker took a session's channels and listens on them (the page may announce it). */
  | { readonly type: 'dataChannelsTaken'; readonly peer: NodeId; readonly session: string }
  /** The worker lost a session's channels in use (a send failed, or a channel closed under it). */
  | { readonly type: 'dataChannelsLost'; readonly peer: NodeId; readonly session: string };

/**
 * Where a transport hands channels (the page end of the engine's transport port). Its worker
 * answers later, through the DataChannelService, never from within `post`.
 */
export interface DataChannelHost {
  /** Throws when a channel cannot be transferred (the transport then keeps it). */
  post(message: DataChannelHandOff, transfer: Transferable[]): void;
}

/** A transport serving a host: what the host's worker says comes back through it. */
export interface DataChannelService {
  /** A message of the worker's guest (counters, taken channels). */
  receive(message: DataChannelGuestMessage): void;
  /**
   * Hands no more channels to this host (its worker is going away) and tells every peer whose
   * session's channels it took to send through the page again.
   */
  stop(): void;
}
