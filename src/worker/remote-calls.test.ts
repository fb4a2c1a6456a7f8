// Calls from a worker node's page to its worker, on their own: a call whose message could not be
// sent leaves nothing behind.
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
});
