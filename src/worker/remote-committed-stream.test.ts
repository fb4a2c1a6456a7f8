// The page side of a worker node's committed streams, on its own: what an iterator the consumer
// dropped without return() costs (nothing, once collected), and that one with a next() still
// waiting is never taken for dropped.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Committed } from '../core/types.ts';
import { workerLimits, type PageEvent } from './protocol.ts';
import { createRemoteCommittedStreams } from './remote-committed-stream.ts';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Collects, then lets finalization callbacks run (they come in a task of their own). */
async function collectAndSettle(): Promise<void> {
  for (let round = 0; round < 3; round += 1) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

const entryAt = (index: number): Committed => ({ type: 'entry', entry: { index, term: 1, command: new Uint8Array([index & 0xff]), isNoOp: false } });

describe('committed streams of a worker node, page side', () => {
  it('an iterator dropped without return() closes its stream once collected, so dropping more than the open-stream bound never throws', async () => {
    const posted: PageEvent[] = [];
    const streams = createRemoteCommittedStreams((event) => posted.push(event), () => false);
    const dropOne = async (): Promise<void> => {
      // As `await node.committed()[Symbol.asyncIterator]().next()` waits for one commit.
      const waiting = streams.iterable(1)[Symbol.asyncIterator]().next();
      const opened = posted.filter((event) => event.type === 'streamOpen').at(-1);
      if (opened?.type !== 'streamOpen') throw new Error('no stream opened');
      streams.deliver(opened.streamId, entryAt(1));
      expect((await waiting).done).toBe(false);
    };
    for (let dropped = 0; dropped < workerLimits.maxOpenStreams + 200; dropped += 1) {
      await dropOne();
      if (dropped % 100 === 99) await collectAndSettle();
    }
    await collectAndSettle();
    const opens = posted.filter((event) => event.type === 'streamOpen').length;
    const closes = posted.filter((event) => event.type === 'streamClose').length;
    expect(opens).toBe(workerLimits.maxOpenStreams + 200);
    // The worker was told to stop all but the few the last collection did not reach yet.
    expect(closes).toBeGreaterThan(opens - 100);
  });

  it('an iterator whose next() is waiting is not taken for dropped, though nothing else refers to it', async () => {
    const posted: PageEvent[] = [];
    const streams = createRemoteCommittedStreams((event) => posted.push(event), () => false);
    const waiting = streams.iterable(1)[Symbol.asyncIterator]().next();
    await collectAndSettle();
    expect(posted.filter((event) => event.type === 'streamClose')).toEqual([]);
    const opened = posted.find((event) => event.type === 'streamOpen');
    if (opened?.type !== 'streamOpen') throw new Error('no stream opened');
    streams.deliver(opened.streamId, entryAt(7));
    expect(await waiting).toEqual({ done: false, value: entryAt(7) });
  });
});
