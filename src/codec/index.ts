// The codec: versioned binary encodings of wire messages and stored records.
export { encodeMessage, decodeMessage } from './message-codec.ts';
export type { DecodeFailure, DecodeResult } from './byte-reader.ts';
export { codecLimits, codecVersion } from './limits.ts';
export {
  decodeConfigPayload,
  decodeLogEntries,
  decodeLogEntry,
  decodeSnapshotMeta,
  encodeConfigPayload,
  encodeLogEntries,
  encodeLogEntry,
  encodeSnapshotMeta,
} from './records.ts';
