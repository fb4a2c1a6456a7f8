// Guards that a restarted worker node showing its stored log takes a snapshot through its commit
// index, as createRaftNode does: the page's copy of the applied index (NodeState.appliedIndex,
// which publishSnapshot checks against) was read by the worker while the driver announced the
// commit index, before the driver raised its applied index, so it was one publish behind (found by
// a review, 2026-12-07).
import 'fake-indexeddb/auto'; // IndexedDB storage inside the in-process worker
import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createInProcessWorker } from './in-process-worker.test-support.ts';
import { createWorkerRaftNode } from './worker-client.ts';

const patient = { electionTimeoutMin: 1_000, electionTimeoutMax: 2_000, heartbeatInterval: 100 };
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(predicate: () => boolean, what: string): Promise<void> {
  for (let tries = 0; tries < 500; tries += 1) {
    if (predicate()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Two voters on IndexedDB commit five commands, then both close: `a`'s database holds them, committed. */
async function storedTwoVoterLog(prefix: string): Promise<{ a: NodeId; storageName: string; committed: number }> {
  const a = nodeId(`${prefix}-a`);
  const b = nodeId(`${prefix}-b`);
  const network = createLoopbackNetwork();
  const storages = await Promise.all([a, b].map((id) => IndexedDbRaftStorage.open(`${prefix}:${id}`)));
  const nodes = await Promise.all(
    [a, b].map((id, position) => createRaftNode({ id, clusterConfig: { voters: [a, b] }, transport: network.transport(id), storage: storages[position]!, raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 300, heartbeatInterval: 30 } })),
  );
  await waitUntil(() => nodes.some((node) => node.role.value === 'leader'), 'a leader');
  const leader = nodes.find((node) => node.role.value === 'leader')!;
  let last = 0;
  for (let k = 0; k < 5; k += 1) last = (await leader.propose(bytes(`c${k}`))).index;
  await waitUntil(() => nodes.every((node) => node.commitIndex.value >= last && (node.appliedIndex?.() ?? 0) >= last), 'both to apply');
  // One more heartbeat round, so `a` has stored the commit index whichever it is.
  await sleep(300);
  await Promise.all(nodes.map((node) => node.close()));
  for (const storage of storages) storage.close();
  return { a, storageName: `${prefix}:${a}`, committed: last };
}

/** Restarts `a` alone (no quorum: it shows its stored log) and republishes the app's snapshot through the stored commit. */
async function restartAndRepublish(kind: 'driver' | 'worker', prefix: string): Promise<{ commitIndex: number; committed: number; publish: string }> {
  const { a, storageName, committed } = await storedTwoVoterLog(prefix);
  const transport = createLoopbackNetwork().transport(a);
  const clusterConfig = { voters: [a] };
  const pageStorage = kind === 'driver' ? await IndexedDbRaftStorage.open(storageName) : null;
  const node: RaftNode =
    pageStorage !== null
      ? await createRaftNode({ id: a, clusterConfig, transport, storage: pageStorage, raftConfig: patient })
      : await createWorkerRaftNode({ id: a, clusterConfig, transport, storage: { type: 'indexeddb', name: storageName }, raftConfig: patient, worker: createInProcessWorker() });
  // The stored log shows (applyHeld ends after a timer of 0 ms); well before any election timeout.
  await waitUntil(() => node.commitIndex.value >= committed, 'the stored commit to show');
  await sleep(100);
  let publish = 'accepted';
  try {
    node.publishSnapshot({ throughIndex: node.commitIndex.value, state: bytes('the app state it saved at that index') });
  } catch (error) {
    publish = `${(error as Error).name}: ${(error as Error).message}`;
  }
  const commitIndex = node.commitIndex.value;
  await node.close();
  pageStorage?.close();
  return { commitIndex, committed, publish };
}

describe('worker node: the applied index publishSnapshot checks against', () => {
  it('a restarted node showing its stored log takes a snapshot through its commit index, as createRaftNode does', async () => {
    const onDriver = await restartAndRepublish('driver', `rv-driver-${Math.random().toString(36).slice(2)}`);
    const onWorker = await restartAndRepublish('worker', `rv-worker-${Math.random().toString(36).slice(2)}`);
    expect(onDriver.publish).toBe('accepted');
    expect(onDriver.commitIndex).toBe(onDriver.committed);
    expect(onWorker.commitIndex).toBe(onWorker.committed);
    expect(onWorker.publish).toBe('accepted');
  });
});
