import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { sleepUnlessAborted } from './abortable-waits.ts';
import { watchAbort } from './abort-watch.ts';
import { createRaftNode } from './create-raft-node.ts';

const abortListeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('watchAbort', () => {
  it('puts one listener on a signal however many watch it, and takes it off when the last watch ends', () => {
    const controller = new AbortController();
    const ends = Array.from({ length: 100 }, () => watchAbort(controller.signal, () => {}));
    expect(abortListeners(controller.signal)).toBe(1);
    for (const end of ends.slice(1)) end();
    expect(abortListeners(controller.signal)).toBe(1);
    ends[0]?.();
    expect(abortListeners(controller.signal)).toBe(0);
    // Watched again afterwards: a listener again.
    const end = watchAbort(controller.signal, () => {});
    expect(abortListeners(controller.signal)).toBe(1);
    end();
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('fires each live watch once, in the order the watches began, and no ended one', () => {
    const controller = new AbortController();
    const fired: string[] = [];
    watchAbort(controller.signal, () => fired.push('first'));
    const endSecond = watchAbort(controller.signal, () => fired.push('second'));
    watchAbort(controller.signal, () => fired.push('third'));
    endSecond();
    controller.abort();
    controller.abort();
    expect(fired).toEqual(['first', 'third']);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('a watch ended by an earlier callback of the same abort does not fire; ending a fired watch is harmless', () => {
    const controller = new AbortController();
    const fired: string[] = [];
    let endLater: () => void = () => {};
    const endFirst = watchAbort(controller.signal, () => {
      fired.push('first');
      endLater();
    });
    endLater = watchAbort(controller.signal, () => fired.push('later'));
    controller.abort();
    expect(fired).toEqual(['first']);
    endFirst();
    endLater();
  });

  it('one callback watched twice is two watches, each ended on its own', () => {
    const controller = new AbortController();
    let calls = 0;
    const callback = (): void => void (calls += 1);
    watchAbort(controller.signal, callback);
    const endSecond = watchAbort(controller.signal, callback);
    endSecond();
    controller.abort();
    expect(calls).toBe(1);
  });

  it('a throwing callback does not stop the others, and its error is reported after the dispatch', async () => {
    const controller = new AbortController();
    const fired: string[] = [];
    const failure = new Error('callback failed');
    const reported = new Promise<unknown>((resolve) => {
      // Vitest reports an uncaught exception as a failed run; this test takes that one over.
      const previous = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.once('uncaughtException', (error) => {
        for (const listener of previous) process.on('uncaughtException', listener);
        resolve(error);
      });
    });
    watchAbort(controller.signal, () => {
      fired.push('thrower');
      throw failure;
    });
    watchAbort(controller.signal, () => fired.push('after'));
    controller.abort();
    expect(fired).toEqual(['thrower', 'after']);
    await expect(reported).resolves.toBe(failure);
  });
});

describe('one signal shared by many calls of a node', () => {
  it('500 proposals and 50 reads under one signal hold one abort listener, none once they settle or abort', async () => {
    const network = createLoopbackNetwork();
    const self = nodeId('solo');
    const node = await createRaftNode({ id: self, clusterConfig: { voters: [self] }, transport: network.transport(self), storage: new InMemoryRaftStorage() });
    try {
      await node.awaitLeadership();
      const shared = new AbortController();
      const proposals = Array.from({ length: 500 }, (_, index) => node.propose(new Uint8Array([index % 256]), { signal: shared.signal }));
      const reads = Array.from({ length: 50 }, () => node.readIndex({ signal: shared.signal }));
      expect(abortListeners(shared.signal)).toBe(1);
      await Promise.all([...proposals, ...reads]);
      expect(abortListeners(shared.signal)).toBe(0);

      // Aborted while pending: every call rejects with the signal's reason, and the listener goes.
      const aborting = new AbortController();
      const pending = Array.from({ length: 300 }, () => node.propose(new Uint8Array([1]), { signal: aborting.signal }).catch((error: unknown) => error));
      expect(abortListeners(aborting.signal)).toBe(1);
      const reason = new Error('gave up');
      aborting.abort(reason);
      const outcomes = await Promise.all(pending);
      // Those already committed when the abort came resolved; every other one has the reason.
      expect(outcomes.every((outcome) => outcome === reason || (typeof outcome === 'object' && outcome !== null && 'index' in outcome))).toBe(true);
      expect(outcomes.filter((outcome) => outcome === reason).length).toBeGreaterThan(0);
      expect(abortListeners(aborting.signal)).toBe(0);
    } finally {
      await node.close();
    }
  });
});

describe('page-local waits under a long-lived signal', () => {
  it('30 waits between attempts on one stop signal hold one listener on it, and none once they end', async () => {
    const clock = new VirtualClock();
    const stop = new AbortController();
    const caller = new AbortController();
    const waits = Array.from({ length: 30 }, (_, index) => sleepUnlessAborted(clock, 10 + index, [stop.signal, caller.signal]));
    expect([abortListeners(stop.signal), abortListeners(caller.signal)]).toEqual([1, 1]);
    await clock.advance(100);
    await Promise.all(waits);
    expect([abortListeners(stop.signal), abortListeners(caller.signal)]).toEqual([0, 0]);
    const stopped = Array.from({ length: 30 }, () => sleepUnlessAborted(clock, 1_000, [stop.signal]).catch((error: unknown) => error));
    stop.abort(new Error('store stopped'));
    expect((await Promise.all(stopped)).map((error) => (error as Error).message)).toEqual(Array.from({ length: 30 }, () => 'store stopped'));
    expect(abortListeners(stop.signal)).toBe(0);
  });
});
