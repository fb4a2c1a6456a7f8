// Chrome DevTools protocol access to a bench page AND its workers: heap sizes after a forced
// garbage collection, and CPU profiles of the engine's worker. Playwright opens CDP sessions on
// pages only, so the page's session auto-attaches to its workers and talks to them through
// Target.sendMessageToTarget (non-flattened sessions), which Chromium still serves.
import type { BrowserContext, CDPSession, Page } from 'playwright';

/**
 * Retained memory of a page and of its engine worker: V8's JS heap, Blink's heap (DOM and other
 * C++ objects the page holds) and the backing stores of ArrayBuffers. The last are outside the
 * JS heap, and they are where a leak of bytes would show: log entries, frames, snapshots.
 */
export interface HeapSizes {
  readonly pageBytes: number;
  readonly workerBytes: number;
  /** The three parts of each, kept in the results: a step in the total says which part stepped. */
  readonly pageParts: HeapParts;
  readonly workerParts: HeapParts;
}

export interface HeapParts {
  readonly javaScriptBytes: number;
  readonly blinkBytes: number;
  readonly arrayBufferBytes: number;
}

/** Runtime.getHeapUsage's answer by part; NaN where a field is missing (an older Chromium). */
function heapParts(usage: Record<string, unknown>): HeapParts {
  const field = (name: string): number => (typeof usage[name] === 'number' ? usage[name] : Number.NaN);
  return { javaScriptBytes: field('usedSize'), blinkBytes: field('embedderHeapUsedSize'), arrayBufferBytes: field('backingStorageSize') };
}

const retainedBytes = (parts: HeapParts): number => parts.javaScriptBytes + parts.blinkBytes + parts.arrayBufferBytes;

export interface PageDevTools {
  /** Retained memory (HeapSizes) of the page and of its engine worker, after a forced GC in both. */
  heapSizes(): Promise<HeapSizes>;
  /** Starts the CPU profiler in the engine worker; stop() returns the profile (.cpuprofile JSON). */
  startWorkerProfile(): Promise<{ stop(): Promise<unknown> }>;
  /** The same for the page's main thread (the transport, Comlink client and proposers run there). */
  startPageProfile(): Promise<{ stop(): Promise<unknown> }>;
  /**
   * Starts V8's sampling heap profiler in the engine worker, keeping the samples of objects the
   * collector has freed since: what a thread allocates, not only what it keeps, since garbage is
   * what the collector's time is spent on. stop() returns the profile (.heapprofile JSON).
   */
  startWorkerAllocationSampling(): Promise<{ stop(): Promise<unknown> }>;
  /** The same for the page's main thread. */
  startPageAllocationSampling(): Promise<{ stop(): Promise<unknown> }>;
  /** The full version (the user agent string carries only the major one). */
  browserVersion(): Promise<string>;
  detach(): Promise<void>;
}

interface WorkerReply {
  readonly id: number;
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly message: string };
}

/** One sample per 16 KiB allocated on average, freed objects kept (Chromium 110 and later). */
const allocationSampling = { samplingInterval: 16 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };

export async function attachDevTools(context: BrowserContext, page: Page): Promise<PageDevTools> {
  const session: CDPSession = await context.newCDPSession(page);
  const workers: string[] = [];
  const waiting = new Map<number, (reply: WorkerReply) => void>();
  let nextId = 1;
  session.on('Target.attachedToTarget', (event) => {
    if (event.targetInfo.type === 'worker') workers.push(event.sessionId);
  });
  session.on('Target.detachedFromTarget', (event) => {
    const index = workers.indexOf(event.sessionId);
    if (index >= 0) workers.splice(index, 1);
  });
  session.on('Target.receivedMessageFromTarget', (event) => {
    const reply = JSON.parse(event.message) as WorkerReply;
    waiting.get(reply.id)?.(reply);
    waiting.delete(reply.id);
  });
  await session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  await session.send('Performance.enable');
  const engineWorker = (): string => {
    // The engine's worker is the newest one this page started (a restarted node makes a new one).
    const sessionId = workers.at(-1);
    if (sessionId === undefined) throw new Error('the page has no worker attached');
    return sessionId;
  };
  const toWorker = async (method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
    const id = nextId++;
    const reply = new Promise<WorkerReply>((resolve) => waiting.set(id, resolve));
    await session.send('Target.sendMessageToTarget', { sessionId: engineWorker(), message: JSON.stringify({ id, method, params }) });
    // Bounded: a worker that went away without a detach event must not hang the run. The timer is
    // cleared on an answer: left running, each one held the process open for 30 s after the
    // benchmark ended (npm test's tiny run took 57 s, 29 of them waiting on these).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<WorkerReply>((resolve) => (timer = setTimeout(() => resolve({ id, error: { message: 'no answer within 30 s' } }), 30_000)));
    const answer = await Promise.race([reply, late]).finally(() => clearTimeout(timer));
    waiting.delete(id);
    if (answer.error !== undefined) throw new Error(`${method} in the worker: ${answer.error.message}`);
    return answer.result ?? {};
  };
  return {
    async heapSizes() {
      await session.send('HeapProfiler.collectGarbage');
      await toWorker('HeapProfiler.collectGarbage');
      const pageParts = heapParts((await session.send('Runtime.getHeapUsage')) as unknown as Record<string, unknown>);
      const workerParts = heapParts(await toWorker('Runtime.getHeapUsage'));
      return { pageBytes: retainedBytes(pageParts), workerBytes: retainedBytes(workerParts), pageParts, workerParts };
    },
    async startWorkerProfile() {
      await toWorker('Profiler.enable');
      await toWorker('Profiler.setSamplingInterval', { interval: 200 });
      await toWorker('Profiler.start');
      return { stop: async () => (await toWorker('Profiler.stop'))['profile'] };
    },
    async browserVersion() {
      const { product } = await session.send('Browser.getVersion');
      return product.replace(/^HeadlessChrome\//, '');
    },
    async startPageProfile() {
      await session.send('Profiler.enable');
      await session.send('Profiler.setSamplingInterval', { interval: 200 });
      await session.send('Profiler.start');
      return { stop: async () => (await session.send('Profiler.stop')).profile };
    },
    async startWorkerAllocationSampling() {
      await toWorker('HeapProfiler.enable');
      await toWorker('HeapProfiler.startSampling', allocationSampling);
      return { stop: async () => (await toWorker('HeapProfiler.stopSampling'))['profile'] };
    },
    async startPageAllocationSampling() {
      await session.send('HeapProfiler.enable');
      await session.send('HeapProfiler.startSampling', allocationSampling);
      return { stop: async () => (await session.send('HeapProfiler.stopSampling')).profile };
    },
    async detach() {
      await session.detach().catch(() => {});
    },
  };
}
