// Calls from a worker node's page to its worker, on their own: a call whose message could not be
// sent leaves nothing behind.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createRemoteCalls } from './remote-calls.ts';

describe('remote calls', () => {
  it('a call that throws as it is sent rejects with that error and is forgotten: its signal aborting later tells the worker nothing', async () => {
    const aborted: number[] = [];
    const calls = createRemoteCalls({ stoppedBy: () => null, abort: (callId) => aborted.push(callId) });
    const controller = new AbortController();
    const cloneError = new DOMException('#<Object> could not be cloned.', 'DataCloneError');
    await expect(
      calls.submit(controller.signal, () => {
        throw cloneError;
      }),
    ).rejects.toBe(cloneError);
    controller.abort();
    expect(aborted).toEqual([]);
  });

  it('a call sent and then aborted tells the worker, once', async () => {
    const aborted: number[] = [];
    const calls = createRemoteCalls({ stoppedBy: () => null, abort: (callId) => aborted.push(callId) });
    const controller = new AbortController();
    const call = calls.submit(controller.signal, () => undefined);
    controller.abort(new Error('gone'));
    await expect(call).rejects.toThrow('gone');
    expect(aborted).toEqual([1]);
  });

  it('calls sharing one signal put one abort listener on it, gone once they are answered, and an abort ends every pending one', async () => {
    const aborted: number[] = [];
    const calls = createRemoteCalls({ stoppedBy: () => null, abort: (callId) => aborted.push(callId) });
    const controller = new AbortController();
    const answered = Array.from({ length: 20 }, () => calls.submit<number>(controller.signal, () => undefined));
    const left = Array.from({ length: 20 }, () => calls.submit<number>(controller.signal, () => undefined));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (let callId = 1; callId <= 20; callId += 1) calls.answered(callId, { type: 'ok', value: callId });
    calls.eventsHandled(Number.MAX_SAFE_INTEGER);
    expect(await Promise.all(answered)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(new Error('gone'));
    expect(await Promise.all(left.map((call) => call.catch((error: unknown) => (error as Error).message)))).toEqual(Array.from({ length: 20 }, () => 'gone'));
    expect(aborted).toEqual(Array.from({ length: 20 }, (_, index) => index + 21));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
