// What the worker is for, in real Chromium: a page whose main thread is blocked does not cost
// the cluster its leader, and a worker that dies stops its page node loudly.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { waitFor } from '../driver/raft-node-contract.test-support.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { blockPageAndExpectNoElection, blockTestConfig, bytes, recordElections } from './blocked-page.test-support.ts';
import { WorkerCrashedError } from './error-transfer.ts';
import { createWorkerRaftNode } from './worker-client.ts';

describe('engine in a worker: a blocked page', () => {
  // Why the frames must bypass the page: with the transport on the page (the default, since
  // RTCPeerConnection exists only there), a blocked page also holds every frame, so no engine
  // placement could keep the leader's heartbeats flowing; the worker buys the engine its own
  // timers and storage, and the bytes must then travel off the main thread too (in production by
  // transferring each RTCDataChannel to the worker, which Chromium allows; see ENVIRONMENT.md).
  // Here a network worker hosts the loopback network and each engine worker holds a port to it
  // (WorkerTransport { type: 'port' }), so the page keeps only the three thin clients. Blocking
  // it for 2 s, longer than any election timeout, would let the followers elect a new leader if
  // the leader's engine ran on the page; with engines in workers no election may happen at all.
  it('blocking the main thread for 2 seconds costs no election: same leader, same term afterwards', async () => {
    const network = new Worker(new URL('./network-worker.test-support.ts', import.meta.url), { type: 'module' });
    const ids = ['n1', 'n2', 'n3'].map((name) => nodeId(name));
    const { elections, onMetric } = recordElections();
    const nodes: RaftNode[] = await Promise.all(
      ids.map((id) => {
        const channel = new MessageChannel();
        network.postMessage({ id, port: channel.port1 }, [channel.port1]);
        return createWorkerRaftNode({
          id,
          clusterConfig: { voters: ids },
          transport: { type: 'port', selfId: id, port: channel.port2 },
          storage: { type: 'memory' },
          raftConfig: blockTestConfig,
          onMetric: onMetric(id),
        });
      }),
    );
    await waitFor(() => nodes.some((node) => node.role.value === 'leader'), 'a leader');
    const leader = nodes.find((node) => node.role.value === 'leader')!;
    await leader.propose(bytes('before the block'));
    await waitFor(() => nodes.every((node) => node.leader.value === leader.id && node.commitIndex.value === leader.commitIndex.value), 'every node to follow the leader');
    await blockPageAndExpectNoElection(nodes, leader, elections);
    await Promise.all(nodes.map((node) => node.close()));
    network.terminate();
  });
});

describe('engine in a worker: a crashed worker', () => {
  it('an uncaught error in the worker stops the page node: pending calls reject, stopped says why', async () => {
    const worker = new Worker(new URL('./crashing-worker.test-support.ts', import.meta.url), { type: 'module' });
    const id = nodeId('solo');
    // A voter that never exists: no leader, so the calls below stay pending until the crash.
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id, nodeId('ghost')] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker });
    const proposal = node.propose(bytes('never commits'));
    const leadership = node.awaitLeadership();
    const stream = node.committedFrom(1)[Symbol.asyncIterator]().next();
    const stopped = new Promise<Error | null>((resolve) => node.stopped.subscribe(resolve));
    worker.postMessage({ crashForTest: true });
    expect(await stopped).toBeInstanceOf(WorkerCrashedError);
    await expect(proposal).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(leadership).rejects.toThrow(/worker crashed.*deliberate crash for a test/);
    expect(await stream).toEqual({ done: true, value: undefined });
    await expect(node.readIndex()).rejects.toBeInstanceOf(WorkerCrashedError);
    await node.close();
  });
});
