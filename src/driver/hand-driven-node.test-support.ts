// One node driven by hand for driver tests: frames in (deliver) and frames out (sent), on a
// storage whose writes wait until the test releases (or fails) them. Came with an outside
// review's tests (2026-12-07, third session); tests of write timing use it.
import { expect } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import type { RaftMetric } from '../core/events.ts';
import type { ForwardProposeResponse, RaftMessage } from '../core/messages.ts';
import { createEmitter, createWatchable } from '../core/observable.ts';
import { nodeId, type NodeId, type RaftEnvelope } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { StorageBatch } from '../storage/raft-storage.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { drainMicrotasks, type VirtualClock } from '../testing/virtual-clock.ts';
import { createRaftNode } from './create-raft-node.ts';
import type { RaftNode } from './node-options.ts';

/** Every batch write waits for release() (or fails with fail()). */
export class GatedStorage extends InMemoryRaftStorage {
  private gates: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  gated = true;
  batches: StorageBatch[] = [];
  override async writeBatch(batch: StorageBatch): Promise<void> {
    this.batches.push(batch);
    if (this.gated) {
      await new Promise<void>((resolve, reject) => this.gates.push({ resolve, reject }));
    }
    await super.writeBatch(batch);
  }
  release(): void {
    const waiting = this.gates;
    this.gates = [];
    for (const gate of waiting) gate.resolve();
  }
  fail(error: Error): void {
    const waiting = this.gates;
    this.gates = [];
    for (const gate of waiting) gate.reject(error);
  }
  get pendingWrites(): number {
    return this.gates.length;
  }
}

export interface HandTransport extends RaftTransport {
  readonly sent: Array<{ to: NodeId; message: RaftMessage }>;
  deliver(from: NodeId, message: RaftMessage): void;
}

export function handTransport(self: NodeId, peers: readonly NodeId[]): HandTransport {
  const incoming = createEmitter<RaftEnvelope>();
  const sent: Array<{ to: NodeId; message: RaftMessage }> = [];
  return {
    selfId: self,
    peers: createWatchable<ReadonlySet<NodeId>>(new Set(peers)),
    incoming,
    sent,
    send(to, bytes) {
      const decoded = decodeMessage(bytes);
      if (decoded.ok) sent.push({ to, message: decoded.value });
    },
    deliver(from, message) {
      incoming.emit({ from, bytes: encodeMessage(message) });
    },
  };
}

export const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

export const ids = { a: nodeId('a'), b: nodeId('b'), c: nodeId('c') };

/** Long timeouts: nothing campaigns by itself during a test. */
export const quietConfig = { electionTimeoutMin: 100_000, electionTimeoutMax: 200_000, heartbeatInterval: 1_000 };


/** The timeouts of leaderOfThreeByHand's node. */
export const handTiming = { electionTimeoutMin: 150, electionTimeoutMax: 300, heartbeatInterval: 50 };

/**
 * a, leading a, b and c on `storage` (its writes let through until the test gates them): an
 * election won by hand, b granting the pre-vote, then the vote.
 */
export async function leaderOfThreeByHand(storage: GatedStorage, clock: VirtualClock, options: { readonly maxPendingProposals?: number; readonly onMetric?: (metric: RaftMetric) => void } = {}): Promise<{ node: RaftNode; transport: HandTransport }> {
  storage.gated = false;
  const transport = handTransport(ids.a, [ids.b, ids.c]);
  const raftConfig = { clock, ...handTiming, ...(options.maxPendingProposals === undefined ? {} : { maxPendingProposals: options.maxPendingProposals }) };
  const node = await createRaftNode({ id: ids.a, clusterConfig: { voters: [ids.a, ids.b, ids.c] }, transport, storage, raftConfig, ...(options.onMetric === undefined ? {} : { onMetric: options.onMetric }) });
  await clock.runUntil(() => transport.sent.some((sent) => sent.message.type === 'requestVote'), 1_000);
  transport.deliver(ids.b, { type: 'requestVoteResponse', term: 1, preVote: true, granted: true, denialReason: null });
  await clock.runUntil(() => transport.sent.some((sent) => sent.message.type === 'requestVote' && !sent.message.preVote), 1_000);
  transport.deliver(ids.b, { type: 'requestVoteResponse', term: 1, preVote: false, granted: true, denialReason: null });
  await clock.runUntil(() => node.role.value === 'leader', 1_000);
  expect(node.role.value).toBe('leader');
  await drainMicrotasks();
  return { node, transport };
}

/** The outcomes of the forward answers the node sent `to`, in order. */
export const forwardAnswers = (transport: HandTransport, to: NodeId): Array<ForwardProposeResponse['outcome']['type']> =>
  transport.sent.flatMap((sent) => (sent.to === to && sent.message.type === 'forwardProposeResponse' ? [sent.message.outcome.type] : []));

/** The indexes the node's 'appended' forward answers named. */
export const appendedIndexes = (transport: HandTransport): number[] =>
  transport.sent.flatMap((sent) => (sent.message.type === 'forwardProposeResponse' && sent.message.outcome.type === 'appended' ? [sent.message.outcome.index] : []));
