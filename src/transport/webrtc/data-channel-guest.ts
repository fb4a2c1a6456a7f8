// The worker's end of data-channel-hand-off.ts: the channels 2 and 3 the page handed over, one
// pair per peer (the newest the page handed over), each with the page's framing, queues and bounds
// (data-path.ts). It sends a frame itself only while the page allows it for that pair and
// both channels are open; otherwise the caller sends it through the page as before. It delivers
// what arrives once the page says the handshake verified the peer; the few messages that arrive
// before that word (the peer's worker may be quicker than this page's message) wait, bounded.
// It tells the page when it took a pair: only then does the page tell the peer
// that this side listens on them. It also tells the page when it lost a pair in use (a send failed,
// or a channel closed under it): the page then gets a fresh pair on the live connection
// (engine-channels.ts), where before both sides stayed on the page's path for the session's life.
import type { Clock } from '../../core/config.ts';
import type { NodeId, RaftEnvelope } from '../../core/types.ts';
import { createCounters } from './counters.ts';
import type { DataChannelGuestMessage, DataChannelHandOff } from './data-channel-hand-off.ts';
import { createDataPath, messageBytes, type DataPath } from './data-path.ts';
import { handOffLimits, resolveWebRtcTransportLimits, type WebRtcTransportLimits } from './limits.ts';
import type { EngineChannel } from './peer-connection.ts';

export interface DataChannelGuestOptions {
  readonly clock: Clock;
  readonly deliver: (envelope: RaftEnvelope) => void;
  /** To the page (DataChannelService.receive). */
  readonly report: (message: DataChannelGuestMessage) => void;
}

export interface DataChannelGuest {
  accept(message: DataChannelHandOff): void;
  /** Sends on the peer's channels if the page allows it now; false: send it through the page. */
  send(to: NodeId, bytes: Uint8Array): boolean;
  /** Closes every channel held here and reports the counters one last time. */
  close(): void;
}

interface GuestLink {
  readonly peer: NodeId;
  readonly session: string;
  readonly control: EngineChannel;
  readonly bulk: EngineChannel;
  readonly limits: WebRtcTransportLimits;
  readonly dataPath: DataPath;
  deliver: boolean;
  send: boolean;
  closed: boolean;
  readonly early: Array<{ readonly channel: 'control' | 'bulk'; readonly data: unknown }>;
}

export function createDataChannelGuest(options: DataChannelGuestOptions): DataChannelGuest {
  const counters = createCounters();
  const links = new Map<NodeId, GuestLink>();
  let lastReported = JSON.stringify(counters);
  let closed = false;
  let reportTimer: unknown = null;

  const report = (): void => {
    const current = JSON.stringify(counters);
    if (current === lastReported) return;
    lastReported = current;
    options.report({ type: 'dataChannelCounters', counters: { ...counters } });
  };
  // Runs only while channels are held (a worker without any wakes nobody), plus once after the
  // last one closed, for its final counts.
  const scheduleReport = (): void => {
    if (closed || reportTimer !== null) return;
    reportTimer = options.clock.setTimeout(() => {
      reportTimer = null;
      report();
      if (links.size > 0) scheduleReport();
    }, handOffLimits.counterReportIntervalMs);
  };

  /**
   * `lost`: the pair failed under this worker (not released at the page's word, replaced by a newer
   * pair, or closed with the worker), so the page is told and may get a fresh one.
   */
  function closeLink(link: GuestLink, lost: boolean): void {
    if (link.closed) return;
    link.closed = true;
    counters.framesDroppedOnDisconnect += link.dataPath.close();
    link.early.length = 0;
    refuse([link.control, link.bulk]);
    if (links.get(link.peer) === link) links.delete(link.peer);
    // Counted by the page, which alone knows whether this was a loss in use or the end of the
    // pair seen from here first (the peer's worker replaced or withdrawn, the connection gone).
    if (!lost || closed) return;
    options.report({ type: 'dataChannelsLost', peer: link.peer, session: link.session });
  }

  function receive(link: GuestLink, channel: 'control' | 'bulk', data: unknown): void {
    if (link.closed) return;
    if (link.deliver) return link.dataPath.receive(channel, data);
    // Bounded in count and size: a peer not yet verified could be anyone. (A peer configured with
    // larger chunks loses early ones here; Raft sends them again.)
    const bytes = messageBytes(data);
    if (bytes !== null && bytes.length <= link.limits.chunkBytes && link.early.length < handOffLimits.maxEarlyMessages) link.early.push({ channel, data: bytes.buffer });
    else counters.framesDroppedUnauthenticated++;
  }

  /** Channels taken by nobody are closed, so the peer's worker notices and sends through its page. */
  function refuse(channels: readonly EngineChannel[]): void {
    for (const channel of channels) {
      try {
        channel.close();
      } catch (_error) {
        // already closed
      }
    }
  }

  function open(message: Extract<DataChannelHandOff, { type: 'dataChannels' }>): void {
    const { peer, session, control, bulk } = message;
    let limits: WebRtcTransportLimits;
    try {
      limits = resolveWebRtcTransportLimits(message.limits);
    } catch (_error) {
      return refuse([control, bulk]);
    }
    const previous = links.get(peer);
    if (previous !== undefined) closeLink(previous, false);
    const link: GuestLink = {
      peer,
      session,
      control,
      bulk,
      limits,
      deliver: false,
      send: false,
      closed: false,
      early: [],
      dataPath: createDataPath({
        control,
        bulk,
        limits,
        clock: options.clock,
        counters,
        deliver: (bytes) => options.deliver({ from: peer, bytes }),
        onSendFailure: () => closeLink(link, true),
      }),
    };
    for (const [name, channel] of [['control', control], ['bulk', bulk]] as const) {
      channel.binaryType = 'arraybuffer';
      channel.addEventListener('message', (event) => receive(link, name, event.data));
      channel.addEventListener('close', () => closeLink(link, true));
    }
    links.set(peer, link);
    scheduleReport();
    options.report({ type: 'dataChannelsTaken', peer, session });
  }

  const current = (peer: NodeId, session: string): GuestLink | undefined => {
    const link = links.get(peer);
    return link?.session === session ? link : undefined;
  };

  return {
    accept(message) {
      if (closed && message.type === 'dataChannels') return refuse([message.control, message.bulk]);
      if (closed) return;
      if (message.type === 'dataChannels') return open(message);
      const link = current(message.peer, message.session);
      if (link === undefined) return;
      if (message.type === 'dataChannelsClosed') return closeLink(link, false);
      link.send = message.send;
      if (message.deliver && !link.deliver) {
        link.deliver = true;
        for (const early of link.early.splice(0)) link.dataPath.receive(early.channel, early.data);
      }
    },
    send(to, bytes) {
      const link = links.get(to);
      if (closed || link === undefined || !link.send || link.control.readyState !== 'open' || link.bulk.readyState !== 'open') return false;
      if (bytes.length > link.limits.maxFrameBytes) counters.framesDroppedOversized++;
      else if (!link.dataPath.send(bytes)) counters.framesDroppedQueueFull++;
      return true;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const link of [...links.values()]) closeLink(link, false);
      if (reportTimer !== null) options.clock.clearTimeout(reportTimer);
      report();
    },
  };
}
