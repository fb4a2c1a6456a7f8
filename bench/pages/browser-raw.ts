// The raw limits bench/browser.ts compares raftmesh against, measured in the same run on the same
// pages: IndexedDB's batched write rate (one strict readwrite transaction per batch, the batch
// packed into one record by IndexedDbRaftStorage, as ENVIRONMENT.md recommends) and a bare
// RTCDataChannel between two of the pages (round trip of 64-byte pings, throughput of 16 KiB
// messages with a 1 MiB bufferedAmount high-water mark).
import { IndexedDbRaftStorage, type LogEntry } from '../../src/index.ts';
import { percentile as at } from '../statistics.ts';
import { createEchoResponder, echoKind as kind } from './echo-protocol.ts';

const highWaterMarkBytes = 1024 * 1024;
const messageBytes = 16 * 1024;
let connection: RTCPeerConnection | null = null;
let channel: RTCDataChannel | null = null;

function entries(first: number, count: number, command: Uint8Array): LogEntry[] {
  return Array.from({ length: count }, (_, offset) => ({ index: first + offset, term: 1, command, isNoOp: false }));
}

async function gathered(peer: RTCPeerConnection): Promise<string> {
  if (peer.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => peer.addEventListener('icegatheringstatechange', () => peer.iceGatheringState === 'complete' && resolve()));
  }
  return JSON.stringify(peer.localDescription);
}

/** The echoing side: pongs for pings, one ack (with the running byte count) per MiB of data. */
function echo(open: RTCDataChannel): void {
  open.binaryType = 'arraybuffer';
  const respond = createEchoResponder((bytes) => open.send(bytes));
  open.addEventListener('message', (event: MessageEvent<ArrayBuffer>) => respond(new Uint8Array(event.data)));
}

function nextMessage(open: RTCDataChannel, type: number): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const listener = (event: MessageEvent<ArrayBuffer>): void => {
      const bytes = new Uint8Array(event.data);
      if (bytes[0] !== type) return;
      open.removeEventListener('message', listener);
      resolve(bytes);
    };
    open.addEventListener('message', listener);
  });
}

function openChannel(): RTCDataChannel {
  if (channel === null || channel.readyState !== 'open') throw new Error('bare channel not open');
  return channel;
}

export const rawApi = {
  /** Entries per second written by sequential strict transactions of `batchSize` packed 100-byte entries. */
  async indexedDbRate(batchSize: number, totalEntries: number): Promise<{ entriesPerSecond: number; transactionsPerSecond: number }> {
    const name = `bench-raw-${Date.now()}`;
    const storage = await IndexedDbRaftStorage.open(name, { durability: 'strict' });
    const command = new Uint8Array(100).fill(5);
    // Warm-up: the first transactions of a new database are slower.
    for (let index = 1; index <= 5 * batchSize; index += batchSize) await storage.writeBatch({ entries: entries(index, batchSize, command) });
    let next = 5 * batchSize + 1;
    const batches = Math.max(1, Math.floor(totalEntries / batchSize));
    const started = performance.now();
    for (let batch = 0; batch < batches; batch += 1) {
      await storage.writeBatch({ hardState: { term: 1, votedFor: null }, entries: entries(next, batchSize, command) });
      next += batchSize;
    }
    const seconds = (performance.now() - started) / 1000;
    storage.close();
    await IndexedDbRaftStorage.destroy(name);
    return { entriesPerSecond: (batches * batchSize) / seconds, transactionsPerSecond: batches / seconds };
  },
  /**
   * Milliseconds per strict transaction of ONE 100-byte entry, one after another (after a tenth as
   * many for warm-up): the least a follower's acknowledgement waits for its disk.
   */
  async indexedDbWriteLatency(transactions: number): Promise<{ p50Ms: number; p99Ms: number }> {
    const name = `bench-raw-latency-${Date.now()}`;
    const storage = await IndexedDbRaftStorage.open(name, { durability: 'strict' });
    const command = new Uint8Array(100).fill(5);
    const times: number[] = [];
    const warmUp = Math.ceil(transactions / 10);
    for (let index = 1; index <= warmUp + transactions; index += 1) {
      const started = performance.now();
      await storage.writeBatch({ entries: entries(index, 1, command) });
      if (index > warmUp) times.push(performance.now() - started);
    }
    storage.close();
    await IndexedDbRaftStorage.destroy(name);
    times.sort((left, right) => left - right);
    return { p50Ms: at(times, 0.5), p99Ms: at(times, 0.99) };
  },
  /**
   * `transactions` strict 1-entry transactions one after another into one new database, as a
   * follower at light load writes: the p50 and p90 of each block of `block`, to see how a write's
   * time changes as the database takes more of them (bench:browser-diagnose --aging).
   */
  async indexedDbWriteAging(transactions: number, block: number): Promise<Array<{ readonly through: number; readonly p50Ms: number; readonly p90Ms: number }>> {
    const name = `bench-raw-aging-${Date.now()}`;
    const storage = await IndexedDbRaftStorage.open(name, { durability: 'strict' });
    const command = new Uint8Array(100).fill(5);
    const blocks: Array<{ readonly through: number; readonly p50Ms: number; readonly p90Ms: number }> = [];
    let times: number[] = [];
    for (let index = 1; index <= transactions; index += 1) {
      const started = performance.now();
      await storage.writeBatch({ entries: entries(index, 1, command) });
      times.push(performance.now() - started);
      if (times.length === block || index === transactions) {
        times.sort((left, right) => left - right);
        blocks.push({ through: index, p50Ms: at(times, 0.5), p90Ms: at(times, 0.9) });
        times = [];
      }
    }
    storage.close();
    await IndexedDbRaftStorage.destroy(name);
    return blocks;
  },
  async bareOffer(): Promise<string> {
    connection = new RTCPeerConnection({ iceServers: [] });
    const created = connection.createDataChannel('bare', { ordered: true });
    created.binaryType = 'arraybuffer';
    created.addEventListener('open', () => (channel = created));
    await connection.setLocalDescription(await connection.createOffer());
    return gathered(connection);
  },
  async bareAnswer(offer: string): Promise<string> {
    connection = new RTCPeerConnection({ iceServers: [] });
    connection.addEventListener('datachannel', (event) => echo(event.channel));
    await connection.setRemoteDescription(JSON.parse(offer) as RTCSessionDescriptionInit);
    await connection.setLocalDescription(await connection.createAnswer());
    return gathered(connection);
  },
  async bareAccept(answer: string): Promise<void> {
    await connection?.setRemoteDescription(JSON.parse(answer) as RTCSessionDescriptionInit);
    while (channel === null) await new Promise((resolve) => setTimeout(resolve, 10));
  },
  /**
   * Round trips of 64-byte pings, one at a time, after a tenth as many for warm-up; with `idleMs`,
   * each ping waits that long after the last pong, as a commit at light load finds the machine
   * idle (a core that has gone idle may take a while to wake).
   */
  async bareRoundTrip(pings: number, idleMs = 0): Promise<{ p50Ms: number; p99Ms: number }> {
    const open = openChannel();
    const times: number[] = [];
    const ping = new Uint8Array(64);
    ping[0] = kind.ping;
    for (let index = 0; index < pings + Math.ceil(pings / 10); index += 1) {
      if (idleMs > 0) await new Promise((resolve) => setTimeout(resolve, idleMs));
      const sent = performance.now();
      const pong = nextMessage(open, kind.pong);
      open.send(ping);
      await pong;
      if (index >= Math.ceil(pings / 10)) times.push(performance.now() - sent);
    }
    times.sort((left, right) => left - right);
    return { p50Ms: at(times, 0.5), p99Ms: at(times, 0.99) };
  },
  /** MiB/s of 16 KiB messages, `totalBytes` after a warm-up of a quarter as much (first bulk transfers are slower). */
  async bareThroughput(totalBytes: number): Promise<{ mebibytesPerSecond: number; mebibytesSent: number }> {
    const open = openChannel();
    open.bufferedAmountLowThreshold = highWaterMarkBytes / 2;
    const piece = new Uint8Array(messageBytes);
    piece[0] = kind.data;
    // Totals are whole MiB of 16 KiB messages, so the echoing side acknowledges exactly at each MiB.
    let acknowledgedTotal = 0;
    let sentTotal = 0;
    let wake: () => void = () => {};
    open.addEventListener('message', (event: MessageEvent<ArrayBuffer>) => {
      if (new Uint8Array(event.data)[0] !== kind.ack) return;
      acknowledgedTotal = new DataView(event.data).getFloat64(1);
      wake();
    });
    const transfer = async (bytes: number): Promise<number> => {
      const started = performance.now();
      const target = sentTotal + bytes;
      for (; sentTotal < target; sentTotal += messageBytes) {
        if (open.bufferedAmount > highWaterMarkBytes) await new Promise((resolve) => open.addEventListener('bufferedamountlow', resolve, { once: true }));
        open.send(piece);
      }
      while (acknowledgedTotal < target) await new Promise<void>((resolve) => (wake = resolve));
      return bytes / (1024 * 1024) / ((performance.now() - started) / 1000);
    };
    const mebibyte = 1024 * 1024;
    await transfer(Math.max(2, Math.round(totalBytes / mebibyte / 4)) * mebibyte);
    const mebibytesPerSecond = await transfer(Math.max(1, Math.round(totalBytes / mebibyte)) * mebibyte);
    return { mebibytesPerSecond, mebibytesSent: sentTotal / mebibyte };
  },
};
