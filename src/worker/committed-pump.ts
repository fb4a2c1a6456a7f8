// The worker side of committed() / committedFrom() on the page: one pump per page stream reads
// the node's own iterator and sends an item only while the page has granted credit, in items and
// in bytes. The node's iterator reads the log by index (no per-subscriber buffer), so a page that
// stops pulling costs the worker one parked iterator and nothing more: its memory cannot grow with
// the log.
import type { Committed } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { serializeError } from './error-transfer.ts';
import { committedItemBytes, workerLimits, type PageEvent, type WorkerEvent } from './protocol.ts';

interface Pump {
  credit: number;
  /** May go below zero by one item: an item larger than what is left still goes, alone. */
  creditBytes: number;
  running: boolean;
  closed: boolean;
  readonly iterator: AsyncIterator<Committed>;
}

export interface CommittedPumps {
  handle(event: PageEvent): void;
  closeAll(): void;
  /** Items sent to the page since start (for tests of the backpressure bound). */
  readonly itemsSent: number;
}

export function createCommittedPumps(node: RaftNode, send: (event: WorkerEvent) => void): CommittedPumps {
  const pumps = new Map<number, Pump>();
  let itemsSent = 0;

  const end = (streamId: number, pump: Pump, error: unknown): void => {
    if (pump.closed) return;
    pump.closed = true;
    pumps.delete(streamId);
    void pump.iterator.return?.();
    send({ type: 'streamEnded', streamId, error: error === null ? null : serializeError(error) });
  };

  const run = async (streamId: number, pump: Pump): Promise<void> => {
    if (pump.running) return;
    pump.running = true;
    try {
      while (pump.credit > 0 && pump.creditBytes > 0 && !pump.closed) {
        const result = await pump.iterator.next();
        if (pump.closed) return;
        if (result.done === true) return end(streamId, pump, null);
        pump.credit -= 1;
        pump.creditBytes -= committedItemBytes(result.value);
        itemsSent += 1;
        send({ type: 'committed', streamId, item: result.value });
      }
    } catch (error) {
      end(streamId, pump, error);
    } finally {
      pump.running = false;
    }
  };

  const open = (streamId: number, fromIndex: number, credit: number, creditBytes: number): void => {
    if (pumps.has(streamId)) return;
    let iterator: AsyncIterator<Committed>;
    try {
      if (pumps.size >= workerLimits.maxOpenStreams) throw new RangeError(`at most ${workerLimits.maxOpenStreams} committed streams may be open at once per node`);
      iterator = node.committedFrom(fromIndex)[Symbol.asyncIterator]();
    } catch (error) {
      send({ type: 'streamEnded', streamId, error: serializeError(error) });
      return;
    }
    const pump: Pump = { credit: clampCredit(credit), creditBytes: clampCreditBytes(creditBytes), running: false, closed: false, iterator };
    pumps.set(streamId, pump);
    void run(streamId, pump);
  };

  return {
    handle(event) {
      if (event.type === 'streamOpen') return open(event.streamId, event.fromIndex, event.credit, event.creditBytes);
      const pump = pumps.get(event.streamId);
      if (pump === undefined) return;
      if (event.type === 'streamClose') {
        pump.closed = true;
        pumps.delete(event.streamId);
        void pump.iterator.return?.();
        return;
      }
      // The page never grants more than its window; clamping keeps a confused page bounded too.
      pump.credit = clampCredit(pump.credit + event.credit);
      pump.creditBytes = clampCreditBytes(pump.creditBytes + (Number.isSafeInteger(event.creditBytes) ? event.creditBytes : 0));
      void run(event.streamId, pump);
    },
    closeAll() {
      for (const [streamId, pump] of [...pumps]) end(streamId, pump, null);
    },
    get itemsSent() {
      return itemsSent;
    },
  };
}

function clampCredit(credit: number): number {
  return Number.isSafeInteger(credit) ? Math.min(Math.max(credit, 0), workerLimits.committedWindow) : 0;
}

/** At most the window; below zero only by what one item overshot (not clamped up). */
function clampCreditBytes(creditBytes: number): number {
  return Number.isSafeInteger(creditBytes) ? Math.min(creditBytes, workerLimits.committedWindowBytes) : 0;
}
