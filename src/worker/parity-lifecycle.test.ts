// close / crash / error precedence at the page-worker boundary, compared with createRaftNode.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { bytes, errorName, settledWithin, soloDriver, soloWorker } from './parity.test-support.ts';

async function closedOutcomes(node: RaftNode): Promise<Record<string, string>> {
  await node.awaitLeadership();
  await node.close();
  return {
    'propose(non-bytes) on a closed node': errorName(await settledWithin(node.propose('text' as unknown as Uint8Array), 2_000)),
    'changeMembership(no voters) on a closed node': errorName(await settledWithin(node.changeMembership({ voters: [] }), 2_000)),
  };
}

async function abortedOutcomes(node: RaftNode): Promise<Record<string, string>> {
  await node.awaitLeadership();
  const aborted = AbortSignal.abort(new DOMException('gone', 'AbortError'));
  const outcome = {
    'propose(non-bytes, aborted signal)': errorName(await settledWithin(node.propose('text' as unknown as Uint8Array, { signal: aborted }), 2_000)),
    'changeMembership(no voters, aborted signal)': errorName(await settledWithin(node.changeMembership({ voters: [] }, { signal: aborted }), 2_000)),
  };
  await node.close();
  return outcome;
}

describe('which error wins: closed node or aborted signal vs a bad argument', () => {
  it('a closed node: the worker node rejects with the same classes as createRaftNode', async () => {
    const onDriver = await closedOutcomes(await soloDriver());
    const onWorker = await closedOutcomes((await soloWorker()).node);
    expect(onWorker).toEqual(onDriver);
  });
  it('an aborted signal: the worker node rejects with the same classes as createRaftNode', async () => {
    const onDriver = await abortedOutcomes(await soloDriver());
    const onWorker = await abortedOutcomes((await soloWorker()).node);
    expect(onWorker).toEqual(onDriver);
  });
});

describe('a crash in the task that made proposals', () => {
  it('proposals still queued in their burst reject with WorkerCrashedError, and nothing throws on the page', async () => {
    const { node, worker } = await soloWorker();
    await node.awaitLeadership();
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const pending = node.propose(bytes('queued'));
      worker.crash('boom');
      expect(errorName(await settledWithin(pending, 2_000))).toBe('WorkerCrashedError');
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught.map(String)).toEqual([]);
  });
});

describe('close with everything pending', () => {
  it('every call settles with RaftClosedError, streams end, later calls reject with RaftClosedError', async () => {
    const id = nodeId('a');
    const { createInProcessWorker } = await import('./in-process-worker.test-support.ts');
    const { createWorkerRaftNode } = await import('./worker-client.ts');
    const { createLoopbackNetwork } = await import('../transport/loopback.ts');
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id, nodeId('ghost')] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker: createInProcessWorker() });
    const controller = new AbortController();
    const calls = {
      sent: node.propose(bytes('sent'), { signal: controller.signal }),
      read: node.readIndex(),
      lead: node.awaitLeadership(),
    };
    for (const call of Object.values(calls)) call.catch(() => undefined);
    const stream = node.committedFrom(1)[Symbol.asyncIterator]();
    const next = stream.next();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const queued = node.propose(bytes('queued in burst'));
    const closing = node.close();
    const outcomes: Record<string, string> = {};
    for (const [name, call] of Object.entries({ ...calls, queued })) outcomes[name] = errorName(await settledWithin(call as Promise<unknown>, 3_000));
    expect(outcomes).toEqual({ sent: 'RaftClosedError', read: 'RaftClosedError', lead: 'RaftClosedError', queued: 'RaftClosedError' });
    expect(await settledWithin(next, 1_000)).toEqual({ ok: { done: true, value: undefined } });
    expect(errorName(await settledWithin(closing, 12_000))).toBe('resolved');
    expect(errorName(await settledWithin(node.propose(bytes('late')), 1_000))).toBe('RaftClosedError');
    expect(errorName(await settledWithin(node.readIndex(), 1_000))).toBe('RaftClosedError');
    expect(() => node.publishSnapshot({ throughIndex: 0, state: new Uint8Array() })).toThrow('closed');
  });
});
