// committed() / committedFrom(): async iterables that read the engine's log by index rather than
// buffering per subscriber, so a slow consumer costs no memory and no entry is skipped or doubled.
import type { Committed, LogEntry } from '../core/types.ts';
import { applicationCopies, type HandOut } from './application-copies.ts';

export interface CommittedSource {
  /** Highest index that is committed and durable here (safe to apply). */
  readonly appliedIndex: number;
  entryAt(index: number): LogEntry | undefined;
  /** Resolves when appliedIndex grows or the node closes. */
  waitForProgress(): Promise<void>;
  readonly closed: boolean;
  /** Snapshot covering `index` when the log no longer holds it (compacted). */
  installFor(index: number): { committed: Committed; nextIndex: number } | null;
}

export function committedIterable(source: CommittedSource, fromIndex: number, handOut: HandOut = applicationCopies): AsyncIterable<Committed> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Committed> {
      let cursor = Math.max(1, fromIndex);
      let finished = false;
      const done = (): IteratorResult<Committed> => {
        finished = true;
        return { done: true, value: undefined };
      };
      return {
        async next(): Promise<IteratorResult<Committed>> {
          for (;;) {
            if (finished || source.closed) return done();
            if (cursor <= source.appliedIndex) {
              const entry = source.entryAt(cursor);
              if (entry === undefined) {
                const install = source.installFor(cursor);
                if (install === null) throw new Error(`committed entry ${cursor} is no longer available`);
                // A snapshot a leader installed here whose write has not landed yet: handed out once it
                // has (appliedIndex reaches it), like any entry, so nothing applied is ahead of the disk.
                if (install.nextIndex - 1 > source.appliedIndex) {
                  await source.waitForProgress();
                  continue;
                }
                cursor = install.nextIndex;
                return { done: false, value: handOut.committed(install.committed) };
              }
              cursor += 1;
              const internal = entry.isNoOp || entry.config !== undefined;
              // A copy of the command (application-copies.ts): the log's own shares its buffer.
              return { done: false, value: internal ? { type: 'internal', index: entry.index } : { type: 'entry', entry: handOut.entry(entry) } };
            }
            await source.waitForProgress();
          }
        },
        async return(): Promise<IteratorResult<Committed>> {
          return done();
        },
      };
    },
  };
}
