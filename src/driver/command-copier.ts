// propose() copies its command: the entry is written, replicated and answered later, and a
// caller may reuse its buffer (an encoder's output) as soon as propose returns. A copy of its own
// per command (copyBytes) costs an ArrayBuffer allocation each, about 1.2 µs in Node 20, which took
// npm run bench -- core from 140k to 100k commits/s. So small commands are copied into shared
// slabs instead (about 80 ns): a slab lives until the last entry viewing it is gone, and entries
// leave the log in order, so at most a slab per live run of entries is held beyond its bytes.
// The slabs stay inside the engine: the application is handed copies of its own
// (application-copies.ts), so it can neither pin a slab nor detach one by transferring a buffer.
import { copyBytes } from '../core/bytes.ts';

/** Bytes of one slab. */
const slabBytes = 64 * 1024;
/** Commands larger than this get a buffer of their own (a slab would waste or pin too much). */
const largestSlabbedBytes = 4 * 1024;

export interface CommandCopier {
  copy(command: Uint8Array): Uint8Array;
}

export function createCommandCopier(): CommandCopier {
  let slab = new Uint8Array(0);
  let used = 0;
  return {
    copy(command) {
      if (command.length > largestSlabbedBytes) return copyBytes(command);
      if (used + command.length > slab.length) {
        slab = new Uint8Array(slabBytes);
        used = 0;
      }
      const copy = slab.subarray(used, used + command.length);
      copy.set(command);
      used += command.length;
      return copy;
    },
  };
}
