// The page's proposals to its worker in binary: every proposal made in one synchronous burst goes
// in one message (remote-node.ts), and as objects each was a structured clone of a request with
// its command in an ArrayBuffer of its own, allocated at the call and transferred, then detached
// and rebuilt on the other side. Now each command is copied at the call into the burst's one
// buffer, next to its call id and request id, and the buffer is transferred whole. The engine in
// the worker copies what it proposes (command-copier.ts), so the commands it reads here may be
// views into that buffer.
import { ByteReader } from '../codec/byte-reader.ts';
import { ByteWriter } from '../codec/byte-writer.ts';
import type { ProposalRequest } from './protocol.ts';

/** How a record holds its request id (the form byte's low bits). */
const requestIdAbsent = 0;
const requestIdCounter = 1;
const requestIdFormMask = 3;
/**
 * The form byte's flag: the caller passed an abort signal. Only then does the worker make an
 * AbortController for the call and the engine listen to it (about 1.5 % of the leader worker's time
 * at saturation, for proposals nobody can abort).
 */
const abortableFlag = 4;

export interface ProposalBurst {
  /** Copies the command now: the caller may reuse its buffer as soon as propose returns. */
  /** `requestId` is null or a positive safe integer (the page validates it, as createRaftNode does). */
  add(callId: number, command: Uint8Array, requestId: number | null, abortable: boolean): void;
  /** The call ids of the proposals still in the burst. */
  callIds(): number[];
  /** Drops a proposal of this burst (its call was aborted before the burst went); false if absent. */
  remove(callId: number): boolean;
  readonly size: number;
  /** The burst as one buffer holding exactly the proposals still in it. */
  finish(): ArrayBuffer;
}

export function createProposalBurst(): ProposalBurst {
  const writer = new ByteWriter(1024);
  /** Where each proposal's record lies in the writer, for remove(). */
  const records = new Map<number, { readonly start: number; readonly end: number }>();
  let removed = false;
  return {
    add(callId, command, requestId, abortable) {
      // Refused here too, before anything of the record is written: a record cut short would
      // corrupt every proposal after it in the burst.
      if (requestId !== null && (!Number.isSafeInteger(requestId) || requestId < 1)) throw new RangeError(`propose requestId must be a positive safe integer, got ${String(requestId)}`);
      const start = writer.byteLength;
      const flags = abortable ? abortableFlag : 0;
      writer.varint(callId);
      if (requestId === null) writer.byte(requestIdAbsent | flags);
      else {
        writer.byte(requestIdCounter | flags);
        writer.varint(requestId);
      }
      writer.bytes(command);
      records.set(callId, { start, end: writer.byteLength });
    },
    remove(callId) {
      const found = records.delete(callId);
      removed ||= found;
      return found;
    },
    get size() {
      return records.size;
    },
    callIds: () => [...records.keys()],
    finish() {
      const written = writer.finish();
      if (!removed) return written.slice().buffer;
      // Rare (an abort within the burst that made the proposal): the survivors, back to back.
      let total = 0;
      for (const { start, end } of records.values()) total += end - start;
      const kept = new Uint8Array(total);
      let offset = 0;
      for (const { start, end } of records.values()) {
        kept.set(written.subarray(start, end), offset);
        offset += end - start;
      }
      return kept.buffer;
    },
  };
}

/** The proposals of a burst, in the order they were made; throws if the buffer is malformed. */
export function decodeProposalBurst(buffer: ArrayBuffer): ProposalRequest[] {
  const reader = new ByteReader(new Uint8Array(buffer));
  const proposals: ProposalRequest[] = [];
  while (reader.remaining > 0 && reader.failure === null) {
    const callId = reader.varint('callId');
    const form = reader.byte();
    if ((form & ~(requestIdFormMask | abortableFlag)) !== 0) reader.fail('invalidField', `request id form ${form}`);
    const requestId = readRequestId(reader, form & requestIdFormMask);
    // Any length the buffer holds: the engine refuses a command too large with its own error.
    const command = reader.bytesField('command', buffer.byteLength);
    if (reader.failure === null) proposals.push({ callId, command, requestId, abortable: (form & abortableFlag) !== 0 });
  }
  if (reader.failure !== null) throw new Error(`malformed proposal batch: ${reader.failure} (${reader.detail})`);
  return proposals;
}

function readRequestId(reader: ByteReader, form: number): number | null {
  switch (form) {
    case requestIdAbsent:
      return null;
    case requestIdCounter:
      return reader.varint('requestId');
    default:
      reader.fail('invalidField', `request id form ${form}`);
      return null;
  }
}
