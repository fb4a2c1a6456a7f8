// A stand-in for a Web Worker in Node tests: the worker host runs in this process behind a
// MessageChannel, so the whole boundary (Comlink calls, the events port, the transport port,
// structured cloning and transfer) is exercised exactly as with a real worker, and a test can
// "crash" it by dispatching the error event a real Worker would, or make it vanish without one.
import type { Endpoint } from 'comlink';
import { exposeWorkerNode } from './expose-worker-node.ts';
import type { WorkerEndpoint } from './worker-client.ts';
import type { WorkerNodeHost } from './worker-host.ts';

export interface InProcessWorker extends WorkerEndpoint {
  readonly host: WorkerNodeHost;
  readonly terminated: boolean;
  /** What a real Worker reports for an uncaught error in its script. */
  crash(message: string): void;
  /**
   * A worker whose context ends without an `error` event, as Node's worker_threads end: every
   * port inside it closes (the page's ends see `close`). The page is not told otherwise.
   */
  vanish(): void;
}

/** The ports the host received (Comlink carries a transferred port as an argument's value). */
function portsIn(data: unknown): MessagePort[] {
  const argumentList = (data as { argumentList?: unknown } | null)?.argumentList;
  if (!Array.isArray(argumentList)) return [];
  return argumentList.map((argument: { value?: unknown } | null) => argument?.value).filter((value): value is MessagePort => value instanceof MessagePort);
}

export function createInProcessWorker(): InProcessWorker {
  const channel = new MessageChannel();
  const hostPorts: MessagePort[] = [];
  channel.port2.addEventListener('message', (event) => hostPorts.push(...portsIn(event.data)));
  const host = exposeWorkerNode(channel.port2 as unknown as Endpoint);
  const errors = new EventTarget();
  let terminated = false;
  channel.port1.start();
  return {
    host,
    get terminated() {
      return terminated;
    },
    postMessage: (message, transfer) => channel.port1.postMessage(message, transfer),
    addEventListener(type, listener) {
      if (type === 'message') channel.port1.addEventListener('message', listener);
      else errors.addEventListener(type, listener);
    },
    removeEventListener(type, listener) {
      if (type === 'message') channel.port1.removeEventListener('message', listener);
      else errors.removeEventListener(type, listener);
    },
    terminate() {
      terminated = true;
      channel.port1.close();
      channel.port2.close();
    },
    vanish() {
      for (const port of [...hostPorts, channel.port2]) port.close();
    },
    crash(message) {
      const event = new Event('error');
      Object.defineProperty(event, 'message', { value: message });
      errors.dispatchEvent(event);
    },
  };
}
