// The page side of committed() / committedFrom(): async iterables fed by the worker under
// credit-based flow control, in items and in bytes. A stream never asks for more than its window
// minus what it already buffers or was promised, so a slow consumer holds at most
// `committedWindow` items and about `committedWindowBytes` bytes here, and the worker, which sends
// only against credit, parks instead of buffering (committed-pump.ts).
import type { Committed } from '../core/types.ts';
import { rebuildError } from './error-transfer.ts';
import { committedItemBytes, workerLimits, type PageEvent, type SerializedError } from './protocol.ts';

interface PageStream {
  readonly buffer: Committed[];
  /** Credit granted to the worker and not used yet. */
  outstanding: number;
  /** Bytes of items consumed since the last credit message: given back with the next one. */
  consumedBytes: number;
  ended: { readonly error: Error | null } | null;
  wake: (() => void) | null;
  /** The iterator of a next() waiting here: reachable while it waits, so it is not taken for abandoned. */
  waitingIterator: object | null;
}

/**
 * What the cleanup of an abandoned iterator needs, apart from the iterator itself (a held value
 * that reached it would keep it alive for good).
 */
interface StreamHandle {
  opened: { readonly streamId: number; readonly stream: PageStream } | null;
  returned: boolean;
}

export interface RemoteCommittedStreams {
  iterable(fromIndex: number): AsyncIterable<Committed>;
  deliver(streamId: number, item: Committed): void;
  end(streamId: number, error: SerializedError | null): void;
  /** The node stopped: every stream ends at once, as createRaftNode's do. */
  endAll(): void;
}

/**
 * `handedOut` hears the last index of each item as a consumer takes it: applied in the worker by
 * then (the node's applied index as the page knows it; a snapshot may cover only what was).
 */
export function createRemoteCommittedStreams(post: (event: PageEvent) => void, isStopped: () => boolean, handedOut: (index: number) => void = () => {}): RemoteCommittedStreams {
  const streams = new Map<number, PageStream>();
  let nextStreamId = 1;

  const wake = (stream: PageStream): void => {
    const resume = stream.wake;
    stream.wake = null;
    resume?.();
  };

  const grantCredit = (streamId: number, stream: PageStream): void => {
    const room = workerLimits.committedWindow - stream.buffer.length - stream.outstanding;
    // Refill in halves: one credit message per half window rather than one per item. The bytes
    // of consumed items go back with it, or alone once they are half the byte window (a few
    // large items), so a worker stopped by the byte window always hears of room again.
    if (stream.ended !== null || (room < workerLimits.committedWindow / 2 && stream.consumedBytes < workerLimits.committedWindowBytes / 2)) return;
    stream.outstanding += room;
    post({ type: 'streamCredit', streamId, credit: room, creditBytes: stream.consumedBytes });
    stream.consumedBytes = 0;
  };

  /**
   * The consumer returned the iterator: the worker stops sending, and a next() still waiting
   * (called before return()) is woken to find the stream done, as createRaftNode's would be;
   * what is buffered is dropped, since nothing after return() hands it out.
   */
  const close = (streamId: number, stream: PageStream): void => {
    if (stream.ended === null) post({ type: 'streamClose', streamId });
    stream.ended = { error: null };
    stream.buffer.length = 0;
    streams.delete(streamId);
    wake(stream);
  };

  /**
   * An iterator dropped without return() (`await node.committed()[Symbol.asyncIterator]().next()`
   * to wait for one commit) would keep its stream open here and in the worker, with up to a window
   * of items buffered, until the node closed, and the 1,025th such call threw; createRaftNode's
   * iterators cost nothing once dropped. Once the garbage collector takes one, its stream closes.
   */
  const abandoned = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<StreamHandle>((handle) => {
    if (handle.opened !== null && !handle.returned) close(handle.opened.streamId, handle.opened.stream);
  }) : null;

  const open = (fromIndex: number): AsyncIterator<Committed> => {
    /** `returned`: return() was called; every next() is done from then on, and none opens the stream. */
    const handle: StreamHandle = { opened: null, returned: false };
    const start = (): { streamId: number; stream: PageStream } => {
      if (streams.size >= workerLimits.maxOpenStreams) throw new RangeError(`at most ${workerLimits.maxOpenStreams} committed streams may be open at once per node`);
      const streamId = nextStreamId++;
      const stream: PageStream = { buffer: [], outstanding: workerLimits.committedWindow, consumedBytes: 0, ended: null, wake: null, waitingIterator: null };
      streams.set(streamId, stream);
      post({ type: 'streamOpen', streamId, fromIndex, credit: workerLimits.committedWindow, creditBytes: workerLimits.committedWindowBytes });
      return { streamId, stream };
    };
    /**
     * The next() in progress. A stream has one slot for a waiting consumer (`wake`), so a next()
     * called before the previous one settled (a consumer that prefetches) waits its turn: without
     * that, it took the slot and the earlier call never woke. In call order, so results are too.
     */
    let pulling: Promise<IteratorResult<Committed>> | null = null;
    const pull = async (): Promise<IteratorResult<Committed>> => {
      if (handle.returned) return { done: true, value: undefined };
      if (handle.opened === null) {
        if (isStopped()) return { done: true, value: undefined };
        handle.opened = start();
      }
      const { streamId, stream } = handle.opened;
      for (;;) {
        const item = stream.buffer.shift();
        if (item !== undefined) {
          handedOut(lastIndexOf(item));
          stream.consumedBytes += committedItemBytes(item);
          grantCredit(streamId, stream);
          return { done: false, value: item };
        }
        if (stream.ended !== null) {
          streams.delete(streamId);
          if (stream.ended.error !== null) throw stream.ended.error;
          return { done: true, value: undefined };
        }
        stream.waitingIterator = iterator;
        await new Promise<void>((resolve) => (stream.wake = resolve));
        stream.waitingIterator = null;
      }
    };
    const iterator: AsyncIterator<Committed> = {
      next(): Promise<IteratorResult<Committed>> {
        const previous = pulling;
        const result = previous === null ? pull() : previous.then(pull, pull);
        pulling = result;
        // Registered before the caller's own reaction, so a consumer that awaits each next()
        // finds no pull in progress and is never chained (no extra turn per item).
        const settled = (): void => {
          if (pulling === result) pulling = null;
        };
        result.then(settled, settled);
        return result;
      },
      async return(): Promise<IteratorResult<Committed>> {
        handle.returned = true;
        if (handle.opened !== null) close(handle.opened.streamId, handle.opened.stream);
        return { done: true, value: undefined };
      },
    };
    abandoned?.register(iterator, handle);
    return iterator;
  };

  return {
    iterable: (fromIndex) => ({ [Symbol.asyncIterator]: () => open(fromIndex) }),
    deliver(streamId, item) {
      const stream = streams.get(streamId);
      if (stream === undefined || stream.ended !== null) return;
      // Never more than granted: a worker that overran the credit is ignored, not buffered.
      if (stream.outstanding <= 0) return;
      stream.outstanding -= 1;
      stream.buffer.push(item);
      wake(stream);
    },
    end(streamId, error) {
      const stream = streams.get(streamId);
      if (stream === undefined || stream.ended !== null) return;
      stream.ended = { error: error === null ? null : rebuildError(error) };
      wake(stream);
    },
    endAll() {
      for (const stream of streams.values()) {
        stream.buffer.length = 0;
        stream.ended ??= { error: null };
        wake(stream);
      }
    },
  };
}

function lastIndexOf(item: Committed): number {
  switch (item.type) {
    case 'entry':
      return item.entry.index;
    case 'internal':
      return item.index;
    case 'install':
      return item.snapshot.throughIndex;
  }
}
