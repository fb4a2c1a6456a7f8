// The "engine" side of bench/datachannel-transfer.ts: sends frames and times their echoes, either
// straight on a data channel transferred to this worker, or through a MessagePort to the page
// that owns the channel (ArrayBuffers transferred both ways, batched per task like the worker
// transport bridge).
type Link = { send(frame: ArrayBuffer): void; onFrame(listener: (frame: ArrayBuffer) => void): void };

function channelLink(channel: RTCDataChannel): Promise<Link> {
  channel.binaryType = 'arraybuffer';
  const listeners: ((frame: ArrayBuffer) => void)[] = [];
  channel.addEventListener('message', (event: MessageEvent<ArrayBuffer>) => listeners.forEach((listener) => listener(event.data)));
  const link: Link = { send: (frame) => channel.send(frame), onFrame: (listener) => void listeners.push(listener) };
  return channel.readyState === 'open' ? Promise.resolve(link) : new Promise((resolve) => channel.addEventListener('open', () => resolve(link), { once: true }));
}

function portLink(port: MessagePort): Link {
  const listeners: ((frame: ArrayBuffer) => void)[] = [];
  let outgoing: ArrayBuffer[] = [];
  port.onmessage = (event: MessageEvent<ArrayBuffer[]>) => {
    for (const frame of event.data) listeners.forEach((listener) => listener(frame));
  };
  const flush = (): void => {
    const batch = outgoing;
    outgoing = [];
    port.postMessage(batch, batch);
  };
  return {
    send(frame) {
      if (outgoing.length === 0) setTimeout(flush, 0);
      outgoing.push(frame);
    },
    onFrame: (listener) => void listeners.push(listener),
  };
}

async function roundTrips(link: Link, count: number): Promise<number[]> {
  let waiting: (() => void) | null = null;
  link.onFrame((frame) => {
    if (frame.byteLength !== 100) return;
    waiting?.();
    waiting = null;
  });
  const times: number[] = [];
  for (let trip = 0; trip < count; trip += 1) {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      waiting = resolve;
      link.send(new Uint8Array(100).buffer);
    });
    times.push(performance.now() - started);
  }
  return times;
}

/** Sends `total` bytes in frames of `size`, waiting for the far side's running count of echoes of a
 * 1-byte acknowledgement every 64 frames (a window, so the channel's buffer stays bounded). */
async function throughput(link: Link, size: number, total: number): Promise<number> {
  const frames = Math.ceil(total / size);
  let acknowledged = 0;
  const window = 64;
  let wake: () => void = () => undefined;
  link.onFrame((frame) => {
    if (frame.byteLength === 1) {
      acknowledged += window;
      wake();
    }
  });
  const started = performance.now();
  for (let sent = 0; sent < frames; sent += 1) {
    while (sent - acknowledged >= window * 4) await new Promise<void>((resolve) => (wake = resolve));
    link.send(new Uint8Array(size).buffer);
  }
  while (acknowledged < frames - (frames % window)) await new Promise<void>((resolve) => (wake = resolve));
  return (frames * size) / 1024 / 1024 / ((performance.now() - started) / 1000);
}

self.onmessage = async (event: MessageEvent<{ mode: 'channel' | 'port'; channel?: RTCDataChannel; port?: MessagePort; trips: number; bytes: number }>) => {
  const { mode, trips, bytes } = event.data;
  const link = mode === 'channel' ? await channelLink(event.data.channel!) : portLink(event.data.port!);
  const times = (await roundTrips(link, trips)).sort((left, right) => left - right);
  const small = await throughput(link, 1024, bytes / 8);
  const large = await throughput(link, 16 * 1024, bytes);
  self.postMessage({ p50: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)], smallMiBps: small, largeMiBps: large });
};
