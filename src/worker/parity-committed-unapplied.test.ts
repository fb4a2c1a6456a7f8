// Guards that committed() on a worker node starts where createRaftNode's does, after the applied
// index, not after the commit index: a follower learns an entry committed before its own write of
// the entry ends, and a stream opened in between skipped that entry for good on the worker node
// (it started after the commit index the page had seen), where createRaftNode's hands it out once
// applied (found while checking a review's suspicion, 2026-12-07).
import { describe, expect, it, vi } from 'vitest';
import { nodeId, type Committed, type NodeId, type RaftEnvelope } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { StorageBatch } from '../storage/raft-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { createInProcessWorker } from './in-process-worker.test-support.ts';
import { createWorkerRaftNode } from './worker-client.ts';

/** An in-memory storage whose writes of entries wait while `held` (the worker's, through the mock below). */
class HeldStorage extends InMemoryRaftStorage {
  held = false;
  private waiting: Array<() => void> = [];
  release(): void {
    this.held = false;
    for (const resume of this.waiting.splice(0)) resume();
  }
  override async writeBatch(batch: StorageBatch): Promise<void> {
    if (this.held && batch.entries.length > 0) await new Promise<void>((resume) => this.waiting.push(resume));
    await super.writeBatch(batch);
  }
}

const workerStorage = vi.hoisted(() => ({ current: null as unknown }));
vi.mock('./open-storage.ts', () => ({
  openWorkerStorage: async () => ({ storage: workerStorage.current, close: () => {} }),
}));

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const quick = { electionTimeoutMin: 150, electionTimeoutMax: 300, heartbeatInterval: 30 };
const patient = { electionTimeoutMin: 5_000, electionTimeoutMax: 6_000, heartbeatInterval: 30 };

async function waitUntil(predicate: () => boolean, what: string): Promise<void> {
  for (let tries = 0; tries < 500; tries += 1) {
    if (predicate()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const indexOf = (item: Committed): number => (item.type === 'entry' ? item.entry.index : item.type === 'internal' ? item.index : item.snapshot.throughIndex);

/** A transport that drops what reaches it while `deaf`. */
function deafening(inner: RaftTransport): RaftTransport & { deaf: boolean } {
  const transport = {
    selfId: inner.selfId,
    peers: inner.peers,
    send: (to: NodeId, frame: Uint8Array) => inner.send(to, frame),
    incoming: { subscribe: (listener: (envelope: RaftEnvelope) => void) => inner.incoming.subscribe((envelope) => (transport.deaf ? undefined : listener(envelope))) },
    deaf: false,
  };
  return transport;
}

/**
 * Voters a and c (createRaftNode) and the follower b (`kind`) on a storage whose writes of entries
 * can be held and a transport that can turn deaf; b has applied the first command.
 */
async function threeVoters(kind: 'driver' | 'worker') {
  const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(`${kind}-${name}`)) as [NodeId, NodeId, NodeId];
  const network = createLoopbackNetwork();
  const clusterConfig = { voters: [a, b, c] };
  const storage = new HeldStorage();
  workerStorage.current = storage;
  const transport = deafening(network.transport(b));
  const others = await Promise.all([a, c].map((id) => createRaftNode({ id, clusterConfig, transport: network.transport(id), storage: new InMemoryRaftStorage(), raftConfig: quick })));
  const follower: RaftNode =
    kind === 'driver'
      ? await createRaftNode({ id: b, clusterConfig, transport, storage, raftConfig: patient })
      : await createWorkerRaftNode({ id: b, clusterConfig, transport, storage: { type: 'memory' }, raftConfig: patient, worker: createInProcessWorker() });
  await waitUntil(() => others.some((node) => node.role.value === 'leader'), 'a leader');
  const leader = others.find((node) => node.role.value === 'leader')!;
  const first = await leader.propose(bytes('first'));
  await waitUntil(() => follower.commitIndex.value >= first.index, 'b to learn the first command committed');
  await sleep(100); // and to apply it: its storage answers at once until held
  const close = (): Promise<unknown> => Promise.all([follower, ...others].map((node) => node.close()));
  return { leader, follower, storage, transport, first, close };
}

/**
 * Two more commands commit on a and c; b learns the first of them committed (with the second)
 * before its write ends. committed() is called on b then, and the indexes it hands out once the
 * write is let go are returned.
 */
async function streamOpenedBeforeApply(kind: 'driver' | 'worker'): Promise<{ commitAtCall: number; appliedAtCall: number; handedOut: number[] }> {
  const { leader, follower, storage, first, close } = await threeVoters(kind);
  storage.held = true;
  await leader.propose(bytes('second'));
  const third = await leader.propose(bytes('third'));
  await waitUntil(() => follower.commitIndex.value > first.index, 'b to learn the second command committed');
  const commitAtCall = follower.commitIndex.value;
  const appliedAtCall = follower.appliedIndex?.() ?? -1;
  const iterator = follower.committed()[Symbol.asyncIterator]();
  storage.release();
  const handedOut: number[] = [];
  for (;;) {
    const next = await Promise.race([iterator.next(), sleep(2_000).then(() => null)]);
    if (next === null || next.done === true) break;
    handedOut.push(indexOf(next.value));
    if (indexOf(next.value) >= third.index) break;
  }
  await iterator.return?.();
  await close();
  return { commitAtCall, appliedAtCall, handedOut };
}

/**
 * b misses a command committed on a and c; it hears it again, with its commit, while its write is
 * held: its commit index is final before the write ends, and only its applied index moves after.
 */
async function appliedAloneMoves(kind: 'driver' | 'worker'): Promise<{ commitHeld: number; appliedHeld: number; commitAfter: number; appliedAfter: number; heard: number[] | null; watchedAfter: number | null }> {
  const { leader, follower, storage, transport, first, close } = await threeVoters(kind);
  transport.deaf = true;
  const missed = await leader.propose(bytes('missed'));
  storage.held = true;
  transport.deaf = false;
  await waitUntil(() => follower.commitIndex.value >= missed.index, 'b to learn the missed command committed');
  await sleep(100);
  const [commitHeld, appliedHeld] = [follower.commitIndex.value, follower.appliedIndex?.() ?? -1];
  // RaftNode.applied announces the move (optional: null where a node lacks it).
  const heard: number[] | null = follower.applied === undefined ? null : [];
  follower.applied?.subscribe((index) => heard?.push(index));
  storage.release();
  await sleep(300);
  const [commitAfter, appliedAfter] = [follower.commitIndex.value, follower.appliedIndex?.() ?? -1];
  const watchedAfter = follower.applied?.value ?? null;
  await close();
  expect(appliedHeld).toBeLessThanOrEqual(first.index);
  return { commitHeld, appliedHeld, commitAfter, appliedAfter, heard, watchedAfter };
}

describe('committed() called while entries are committed but not yet applied', () => {
  it('hands them out once applied, on the worker node as on createRaftNode', async () => {
    const onDriver = await streamOpenedBeforeApply('driver');
    const onWorker = await streamOpenedBeforeApply('worker');
    // The case under test: the follower knew more committed than it had applied.
    expect(onDriver.commitAtCall).toBeGreaterThan(onDriver.appliedAtCall);
    expect(onWorker.commitAtCall).toBeGreaterThan(onWorker.appliedAtCall);
    expect(onDriver.handedOut[0]).toBe(onDriver.appliedAtCall + 1);
    expect(onWorker.handedOut).toEqual(onDriver.handedOut);
  });

  it('the page learns the worker applied them, though no other observable changed', async () => {
    const onDriver = await appliedAloneMoves('driver');
    const onWorker = await appliedAloneMoves('worker');
    // The case under test: the commit index was final while the write was held.
    expect(onDriver.commitAfter).toBe(onDriver.commitHeld);
    expect(onWorker.commitAfter).toBe(onWorker.commitHeld);
    expect(onDriver.appliedAfter).toBe(onDriver.commitAfter);
    expect(onWorker.appliedAfter).toBe(onWorker.commitAfter);
    // Both announce it through RaftNode.applied, whose value is appliedIndex() (the worker node
    // had no such watchable before the third session of 2026-12-07).
    expect(onDriver.heard?.at(-1)).toBe(onDriver.commitAfter);
    expect(onWorker.heard?.at(-1)).toBe(onWorker.commitAfter);
    expect(onWorker.watchedAfter).toBe(onWorker.appliedAfter);
    expect(onDriver.watchedAfter).toBe(onDriver.appliedAfter);
  });
});
