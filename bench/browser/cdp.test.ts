import type { BrowserContext, Page } from 'playwright';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { attachDevTools } from './cdp.ts';

type Handler = (event: Record<string, unknown>) => void;

/**
 * A page's CDP session with one engine worker attached. A message to the worker is answered on
 * a later task when `answering` is true, and never otherwise (a worker gone without a detach).
 */
function fakeContext(answering: boolean): BrowserContext {
  const handlers = new Map<string, Handler>();
  const session = {
    on: (event: string, handler: Handler) => void handlers.set(event, handler),
    detach: () => Promise.resolve(),
    send: (method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
      if (method === 'Target.setAutoAttach') handlers.get('Target.attachedToTarget')?.({ sessionId: 'worker-session', targetInfo: { type: 'worker' } });
      if (method === 'Target.sendMessageToTarget' && answering) {
        const { id } = JSON.parse(String(params['message'])) as { id: number };
        const message = JSON.stringify({ id, result: { usedSize: 1, embedderHeapUsedSize: 2, backingStorageSize: 3 } });
        setTimeout(() => handlers.get('Target.receivedMessageFromTarget')?.({ message }), 1);
      }
      if (method === 'Runtime.getHeapUsage') return Promise.resolve({ usedSize: 10, embedderHeapUsedSize: 20, backingStorageSize: 30 });
      return Promise.resolve({});
    },
  };
  return { newCDPSession: () => Promise.resolve(session) } as unknown as BrowserContext;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('attachDevTools: messages to the engine worker', () => {
  it('an answered message leaves no timer behind (each held the benchmark process open for 30 s)', async () => {
    vi.useFakeTimers();
    const devTools = await attachDevTools(fakeContext(true), {} as Page);
    const sizes = devTools.heapSizes();
    await vi.advanceTimersByTimeAsync(5);
    await expect(sizes).resolves.toEqual({ pageBytes: 60, workerBytes: 6, pageParts: { javaScriptBytes: 10, blinkBytes: 20, arrayBufferBytes: 30 }, workerParts: { javaScriptBytes: 1, blinkBytes: 2, arrayBufferBytes: 3 } });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a worker that never answers fails the call after 30 s, naming the method', async () => {
    vi.useFakeTimers();
    const devTools = await attachDevTools(fakeContext(false), {} as Page);
    const sizes = devTools.heapSizes();
    const failure = expect(sizes).rejects.toThrow('HeapProfiler.collectGarbage in the worker: no answer within 30 s');
    await vi.advanceTimersByTimeAsync(29_999);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await failure;
    expect(vi.getTimerCount()).toBe(0);
  });
});
