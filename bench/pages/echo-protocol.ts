// The tiny protocol the link benchmarks (bench:webrtc and bench:browser's raw channel limit) speak
// over a data channel: the measuring side sends pings and bulk data; the echoing side answers
// each ping with a pong and acknowledges every MiB of data with the running byte count.

export const echoKind = { ping: 1, pong: 2, data: 3, ack: 4 } as const;

/** Bytes between two acknowledgements (and the senders' in-flight window). */
export const echoAckEveryBytes = 1024 * 1024;

/** The echoing side: feed it every message; it answers through `send`. */
export function createEchoResponder(send: (bytes: Uint8Array<ArrayBuffer>) => void): (bytes: Uint8Array) => void {
  let received = 0;
  let acknowledged = 0;
  return (bytes) => {
    if (bytes[0] === echoKind.ping) {
      const pong = new Uint8Array(bytes);
      pong[0] = echoKind.pong;
      send(pong);
    } else if (bytes[0] === echoKind.data) {
      received += bytes.length;
      if (received - acknowledged >= echoAckEveryBytes) {
        acknowledged = received;
        const ack = new Uint8Array(9);
        ack[0] = echoKind.ack;
        new DataView(ack.buffer).setFloat64(1, received);
        send(ack);
      }
    }
  };
}
