// Trouble the transport can name but not fix, said once in words through
// WebRtcTransportOptions.onWarning (the counters count every occurrence). A connection that
// cannot connect otherwise only times out and retries, again and again, and nothing says why: a
// newcomer's Node peers on a loopback-only host never met, and nothing said that node-datachannel
// had found no address to use (review of 2026-12-07).
import type { NodeId } from '../../core/types.ts';

export type WebRtcTransportWarning =
  /** ICE gathering completed without a local candidate (counters.connectionsWithoutLocalCandidates). */
  { readonly type: 'noLocalCandidates'; readonly peer: NodeId; readonly message: string };

export function noLocalCandidatesWarning(peer: NodeId): WebRtcTransportWarning {
  return {
    type: 'noLocalCandidates',
    peer,
    message:
      `WebRTC gathered no local ICE candidate for the connection to ${peer}: it connects only if ${peer}'s own candidates reach this host, never with a peer in the same state (counted in counters.connectionsWithoutLocalCandidates; said once). ` +
      'In Node, node-datachannel gathers none on a host whose only interface is loopback unless told an address to bind: ' +
      "pass `webrtc: withBindAddress(await import('node-datachannel/polyfill'), '127.0.0.1')` (withBindAddress from raftmesh/node; startEdgePeer's bindAddress, raftmesh-peer's --bind). " +
      'Otherwise check that the host has a usable network interface, and iceServers for STUN/TURN.',
  };
}

/**
 * Calls `listener` with the first warning of each type only: a connection retried every few seconds
 * would repeat it for good. An exception the listener throws is ignored.
 */
export function warnOncePerType(listener: ((warning: WebRtcTransportWarning) => void) | undefined): (warning: WebRtcTransportWarning) => void {
  const said = new Set<WebRtcTransportWarning['type']>();
  return (warning) => {
    if (listener === undefined || said.has(warning.type)) return;
    said.add(warning.type);
    try {
      listener(warning);
    } catch (_error) {
      // A logger's failure must not reach the connection's event handler, which runs inside
      // simple-peer's emitter: thrown there, it would end the connection attempt (or, in Node,
      // the process) over a log line. The signaling client's onRetry is guarded the same way.
    }
  };
}
