// Shared setup for the parity tests (parity-*.test.ts), first written by a review (2026-12-06): a solo worker node (in-process worker) and a solo
// createRaftNode node, each on a loopback network, real time, in-memory storage.
import { nodeId, type NodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createInProcessWorker, type InProcessWorker } from './in-process-worker.test-support.ts';
import { createWorkerRaftNode } from './worker-client.ts';

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

export async function soloWorker(name = 'solo'): Promise<{ node: RaftNode; worker: InProcessWorker; id: NodeId }> {
  const id = nodeId(name);
  const worker = createInProcessWorker();
  const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker });
  return { node, worker, id };
}

export async function soloDriver(name = 'solo'): Promise<RaftNode> {
  const id = nodeId(name);
  return createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage() });
}

/** What a promise settled with within `ms`, or 'still pending'. */
export async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<{ ok: T } | { error: unknown } | 'still pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'still pending'>((resolve) => (timer = setTimeout(() => resolve('still pending'), ms)));
  try {
    return await Promise.race([promise.then((ok) => ({ ok }), (error: unknown) => ({ error })), late]);
  } finally {
    clearTimeout(timer);
  }
}

export const errorName = (outcome: { ok: unknown } | { error: unknown } | 'still pending'): string =>
  outcome === 'still pending' ? 'still pending' : 'ok' in outcome ? 'resolved' : (outcome.error as Error).name;
