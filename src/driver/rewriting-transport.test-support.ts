// A transport for driver tests whose outgoing frames pass through a rewrite first: a test drops
// one kind of frame on a link, or makes a node say what an honest one would not.
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import type { RaftMessage } from '../core/messages.ts';
import type { NodeId } from '../core/types.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';

/** `rewrite` returns the frame to send (the same object: unchanged), or null to drop it. */
export function rewritingTransport(inner: RaftTransport, rewrite: (to: NodeId, message: RaftMessage) => RaftMessage | null): RaftTransport {
  return {
    selfId: inner.selfId,
    peers: inner.peers,
    incoming: inner.incoming,
    send(to, bytes) {
      const decoded = decodeMessage(bytes);
      if (!decoded.ok) {
        inner.send(to, bytes);
        return;
      }
      const rewritten = rewrite(to, decoded.value);
      if (rewritten === null) return;
      inner.send(to, rewritten === decoded.value ? bytes : encodeMessage(rewritten));
    },
  };
}
