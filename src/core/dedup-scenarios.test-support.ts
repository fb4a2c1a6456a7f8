// What the tests of retried requests share (inherited-dedup.test.ts, compacted-keys.test.ts): a
// forward appended and committed whose answer was lost, and how to read where a request landed.
import { expect } from 'vitest';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import type { ForwardPropose } from './messages.ts';
import type { ProposalOutcome, Ready } from './ready.ts';
import { clientId, type DedupKey } from './types.ts';

/** ASCII text as bytes (the core's compiler settings have no TextEncoder). */
export const bytes = (text: string): Uint8Array => Uint8Array.from(text, (character) => character.charCodeAt(0));
export const key: DedupKey = { clientId: clientId('client-p'), requestId: 7 };

/** How a proposal settled: its first outcome other than `accepted`. */
export const settledOf = (outcomes: readonly ProposalOutcome[], proposalId: number): ProposalOutcome | undefined =>
  outcomes.find((item) => item.proposalId === proposalId && item.type !== 'accepted');

export const committedIndexOf = (outcomes: readonly ProposalOutcome[], proposalId: number): number | undefined => {
  const outcome = settledOf(outcomes, proposalId);
  return outcome?.type === 'committed' ? outcome.entry.index : undefined;
};

/** Indexes of the entries this node's log (above its floor) holds under the key. */
export const copiesOf = (node: HarnessNode, dedupKey: DedupKey): number[] => {
  const indexes: number[] = [];
  for (let index = node.core.compactionFloor + 1; index <= node.core.lastIndex; index += 1) {
    const entry = node.core.entryAt(index);
    if (entry?.dedupKey?.clientId === dedupKey.clientId && entry.dedupKey.requestId === dedupKey.requestId) indexes.push(index);
  }
  return indexes;
};

export function forwardsIn(ready: Ready | null): ForwardPropose[] {
  return [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])].map((outbound) => outbound.message).filter((message): message is ForwardPropose => message.type === 'forwardPropose');
}

export interface ForwardUnanswered {
  readonly harness: CoreHarness;
  readonly leader: HarnessNode;
  readonly proposer: HarnessNode;
  readonly other: HarnessNode;
  /** Where the leader appended the request (committed on every node). */
  readonly original: number;
}

/**
 * A 3-node cluster where a follower's forward (proposal 11, under `key`) was appended at
 * `original` and committed on every node, but the leader's answer was lost: the proposer will
 * retry it. Frames flow normally again afterwards.
 */
export function forwardAnsweredNever(): ForwardUnanswered {
  const harness = createCoreHarness(['a', 'b', 'c']);
  harness.advance(400);
  const leader = harness.leaders()[0]!;
  const [proposer, other] = [...harness.nodes.values()].filter((node) => node !== leader) as [HarnessNode, HarnessNode];
  harness.dropWhen = (_from, _to, message) => message.type === 'forwardProposeResponse';
  proposer.core.propose(harness.now, 11, bytes('claim task 4'), key);
  harness.advance(100);
  const [original] = copiesOf(leader, key);
  expect(original).toBeDefined();
  for (const node of harness.nodes.values()) expect(node.core.commitIndex).toBeGreaterThanOrEqual(original!);
  expect(settledOf(proposer.outcomes, 11)).toBeUndefined();
  harness.dropWhen = null;
  return { harness, leader, proposer, other, original: original! };
}
