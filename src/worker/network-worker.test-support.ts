// A worker that hosts a loopback network for tests: each message { id, port } serves the
// transport of node `id` on `port` (whose other end an engine worker holds), so Raft frames flow
// between engine workers without ever touching the page's main thread.
import { nodeId } from '../core/types.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { serveTransport } from './transport-bridge.ts';

const network = createLoopbackNetwork();

globalThis.addEventListener('message', (event: MessageEvent<{ id: string; port: MessagePort }>) => {
  serveTransport(network.transport(nodeId(event.data.id)), event.data.port);
});
