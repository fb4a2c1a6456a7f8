// The worker half of `bench:browser-diagnose --timeline`: wall-clock marks (timeOrigin + now, which
// every process shares) of what one engine worker does with each light-load commit, taken at the
// worker's edges so that the library itself is not touched:
// - a `proposeBatch` call arriving (a 'message' listener on the worker, added before Comlink's);
// - every message handed to a data channel (RTCDataChannel.prototype.send, patched in this worker:
//   the engine's channels were transferred here), kept as bytes and decoded only when collected;
// - every frame the engine receives (WorkerNodeHostOptions.onFrame);
// - every storage write: when writeBatch is called, when its synchronous part returns (IndexedDB
//   issues its requests there) and when it completes (IndexedDbRaftStorage.prototype.writeBatch,
//   patched);
// - every event batch posted to the page (MessagePort.prototype.postMessage, patched); at light
//   load the first one after a commit carries its answer.
// Recording is off until the page starts it and every list is bounded, so the benchmark's other
// phases run as without it. Decoding waits for collect(): a mark costs a clock read and a push.
import { decodeMessage } from '../../src/codec/index.ts';
import type { RaftEnvelope } from '../../src/core/types.ts';
import { IndexedDbRaftStorage } from '../../src/storage/indexeddb-storage.ts';
import { chunkKind, splitBundle } from '../../src/transport/webrtc/framing.ts';
import type { WorkerMarks } from './commit-timeline.ts';

const maxMarks = 20_000;
const wallClock = (): number => performance.timeOrigin + performance.now();

interface RawSend {
  /** send() called. */
  readonly atMs: number;
  /** send() returned. */
  readonly returnedMs: number;
  readonly channel: number;
  readonly chunk: Uint8Array;
}

interface RawFrame {
  readonly atMs: number;
  readonly from: string;
  readonly bytes: Uint8Array;
}

export interface TimelineRecorder {
  /** For WorkerNodeHostOptions.onFrame. */
  onFrame(envelope: RaftEnvelope): void;
  start(): void;
  /** Stops recording and returns the marks, decoded. */
  collect(): WorkerMarks;
}

export function installTimelineRecorder(self: string): TimelineRecorder {
  let recording = false;
  let sends: RawSend[] = [];
  let frames: RawFrame[] = [];
  let marks = emptyMarks(self);
  const room = (list: readonly unknown[]): boolean => recording && list.length < maxMarks;

  // Only when it arrived: how the proposals are packed is the worker protocol's business, and one
  // commit at a time makes the last arrival before an AppendEntries the one that caused it.
  globalThis.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (room(marks.proposals) && isProposeBatch(event.data)) marks.proposals.push(wallClock());
  });

  const channelIds = new WeakMap<object, number>();
  let channelCount = 0;
  if (typeof RTCDataChannel === 'undefined') marks.notes.push('no RTCDataChannel in this worker: sends are not recorded');
  else {
    const send = RTCDataChannel.prototype.send as (this: RTCDataChannel, data: unknown) => void;
    RTCDataChannel.prototype.send = function timedSend(this: RTCDataChannel, data: unknown): void {
      // Not recording: no clock reads, so the benchmark's other phases pay one branch per send.
      if (!recording) return send.call(this, data);
      const atMs = wallClock();
      send.call(this, data);
      if (!room(sends) || !(data instanceof Uint8Array)) return;
      let channel = channelIds.get(this);
      if (channel === undefined) {
        channelCount += 1;
        channel = channelCount;
        channelIds.set(this, channel);
      }
      sends.push({ atMs, returnedMs: wallClock(), channel, chunk: data });
    } as RTCDataChannel['send'];
  }

  const writeBatch = IndexedDbRaftStorage.prototype.writeBatch;
  IndexedDbRaftStorage.prototype.writeBatch = function timedWriteBatch(this: IndexedDbRaftStorage, batch) {
    if (!room(marks.writes)) return writeBatch.call(this, batch);
    const startMs = wallClock();
    const written = writeBatch.call(this, batch);
    const issuedMs = wallClock();
    const first = batch.entries[0]?.index ?? null;
    const last = batch.entries[batch.entries.length - 1]?.index ?? null;
    return written.then(() => {
      marks.writes.push({ startMs, issuedMs, endMs: wallClock(), firstIndex: first, lastIndex: last, hardState: batch.hardState !== undefined });
    });
  };

  const postMessage = MessagePort.prototype.postMessage as (this: MessagePort, message: unknown, transfer?: Transferable[]) => void;
  MessagePort.prototype.postMessage = function timedPostMessage(this: MessagePort, message: unknown, transfer?: Transferable[]): void {
    if (!recording) return postMessage.call(this, message, transfer ?? []);
    const atMs = wallClock();
    postMessage.call(this, message, transfer ?? []);
    if (!room(marks.eventBatches)) return;
    const type = (message as { type?: unknown } | null)?.type;
    if (type === 'events') marks.eventBatches.push(atMs);
    else if (type === 'frames') marks.framesThroughPage.push(atMs);
  } as MessagePort['postMessage'];

  return {
    onFrame(envelope) {
      if (room(frames)) frames.push({ atMs: wallClock(), from: envelope.from, bytes: envelope.bytes.slice() });
    },
    start() {
      sends = [];
      frames = [];
      marks = emptyMarks(self);
      recording = true;
    },
    collect() {
      recording = false;
      for (const send of sends) {
        const carried = framesOfChunk(send.chunk);
        marks.messagesSent.push({ atMs: send.atMs, returnedMs: send.returnedMs, channel: send.channel, frames: carried.map(describeFrame) });
        for (const frame of carried) addSent(marks, send, frame);
      }
      for (const frame of frames) addReceived(marks, frame);
      sends = [];
      frames = [];
      return marks;
    },
  };
}

function emptyMarks(self: string): WorkerMarks {
  return { node: self, proposals: [], appendsSent: [], appendsReceived: [], answersSent: [], answersReceived: [], writes: [], eventBatches: [], messagesSent: [], framesThroughPage: [], notes: [] };
}

function isProposeBatch(data: unknown): boolean {
  const message = data as { type?: unknown; path?: unknown } | null;
  return message?.type === 'APPLY' && Array.isArray(message.path) && message.path[0] === 'proposeBatch';
}

/** The whole frames one data channel message carries (parts of large frames are skipped). */
function framesOfChunk(chunk: Uint8Array): Uint8Array[] {
  if (chunk[0] === chunkKind.whole) return [chunk.subarray(1)];
  if (chunk[0] === chunkKind.bundle) return splitBundle(chunk, Number.MAX_SAFE_INTEGER) ?? [];
  return [];
}

/** A frame's message type, with the number of entries an AppendEntries carries. */
function describeFrame(frame: Uint8Array): string {
  const decoded = decodeMessage(frame);
  if (!decoded.ok) return 'undecodable';
  const message = decoded.value;
  return message.type === 'appendEntries' ? `appendEntries(${message.entries.length})` : message.type;
}

function addSent(marks: WorkerMarks, send: RawSend, frame: Uint8Array): void {
  const decoded = decodeMessage(frame);
  if (!decoded.ok) return;
  const message = decoded.value;
  if (message.type === 'appendEntries' && message.entries.length > 0) {
    marks.appendsSent.push({ atMs: send.atMs, returnedMs: send.returnedMs, channel: send.channel, firstIndex: message.entries[0]?.index ?? 0, lastIndex: message.entries[message.entries.length - 1]?.index ?? 0 });
  } else if (message.type === 'appendEntriesResponse') {
    marks.answersSent.push({ atMs: send.atMs, returnedMs: send.returnedMs, channel: send.channel, success: message.success, matchIndex: message.matchIndex });
  }
}

function addReceived(marks: WorkerMarks, frame: RawFrame): void {
  const decoded = decodeMessage(frame.bytes);
  if (!decoded.ok) return;
  const message = decoded.value;
  if (message.type === 'appendEntries' && message.entries.length > 0) {
    marks.appendsReceived.push({ atMs: frame.atMs, from: frame.from, firstIndex: message.entries[0]?.index ?? 0, lastIndex: message.entries[message.entries.length - 1]?.index ?? 0 });
  } else if (message.type === 'appendEntriesResponse') {
    marks.answersReceived.push({ atMs: frame.atMs, from: frame.from, success: message.success, matchIndex: message.matchIndex });
  }
}
