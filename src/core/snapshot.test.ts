import { describe, expect, it } from 'vitest';
import { createCoreHarness } from './core-harness.test-support.ts';
import type { InstallSnapshot } from './messages.ts';
import { acceptChunk } from './snapshot-reassembly.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function chunk(offset: number, data: string, totalBytes = 6): InstallSnapshot {
  return { type: 'installSnapshot', term: 3, meta: { lastIncludedIndex: 10, lastIncludedTerm: 2 }, totalBytes, offset, data: bytes(data) };
}

describe('snapshot reassembly', () => {
  it('accepts only the next offset: duplicates and reorders are not appended twice', () => {
    let verdict = acceptChunk(null, chunk(0, 'ab'), 1024);
    expect(verdict.type).toBe('progress');
    if (verdict.type !== 'progress') return;
    verdict = acceptChunk(verdict.reassembly, chunk(4, 'ef'), 1024); // reordered: ignored
    expect(verdict.type === 'progress' && verdict.reassembly.received).toBe(2);
    if (verdict.type !== 'progress') return;
    verdict = acceptChunk(verdict.reassembly, chunk(0, 'ab'), 1024); // duplicate: ignored
    expect(verdict.type === 'progress' && verdict.reassembly.received).toBe(2);
    if (verdict.type !== 'progress') return;
    verdict = acceptChunk(verdict.reassembly, chunk(2, 'cd'), 1024);
    if (verdict.type !== 'progress') throw new Error('expected progress');
    verdict = acceptChunk(verdict.reassembly, chunk(4, 'ef'), 1024);
    expect(verdict.type).toBe('complete');
    if (verdict.type === 'complete') expect(new TextDecoder().decode(verdict.state)).toBe('abcdef');
  });

  it('refuses a snapshot larger than the total ceiling and a chunk past its total', () => {
    expect(acceptChunk(null, chunk(0, 'ab', 2048), 1024).type).toBe('tooLarge');
    expect(acceptChunk(null, chunk(5, 'ab'), 1024).type).toBe('invalidMeta');
    const lying: InstallSnapshot = { ...chunk(0, 'ab'), meta: { lastIncludedIndex: 10, lastIncludedTerm: 4 } };
    expect(acceptChunk(null, lying, 1024).type).toBe('invalidMeta'); // snapshot term above the sender's
  });

  it('a newer snapshot restarts reassembly', () => {
    const first = acceptChunk(null, chunk(0, 'ab'), 1024);
    if (first.type !== 'progress') throw new Error('expected progress');
    const newer: InstallSnapshot = { ...chunk(0, 'xy'), meta: { lastIncludedIndex: 20, lastIncludedTerm: 3 } };
    const verdict = acceptChunk(first.reassembly, newer, 1024);
    expect(verdict.type === 'progress' && verdict.reassembly.meta.lastIncludedIndex).toBe(20);
  });

  it("a chunk of an older snapshot from the same leader, still in flight, leaves the newer stream's progress alone", () => {
    const newer = (offset: number, data: string): InstallSnapshot => ({ ...chunk(offset, data), meta: { lastIncludedIndex: 20, lastIncludedTerm: 3 } });
    let verdict = acceptChunk(null, newer(0, 'ab'), 1024);
    if (verdict.type !== 'progress') throw new Error('expected progress');
    verdict = acceptChunk(verdict.reassembly, newer(2, 'cd'), 1024);
    if (verdict.type !== 'progress') throw new Error('expected progress');
    const kept = verdict.reassembly;
    // The stream the leader replaced (index 10, same term 3) delivers a late chunk.
    expect(acceptChunk(kept, chunk(2, 'cd'), 1024).type).toBe('stale');
    verdict = acceptChunk(kept, newer(4, 'ef'), 1024);
    expect(verdict.type).toBe('complete');
    // A new leader's older snapshot still restarts it (a leader change).
    const fromNewLeader: InstallSnapshot = { ...chunk(0, 'ab'), term: 4 };
    const restarted = acceptChunk(kept, fromNewLeader, 1024);
    expect(restarted.type === 'progress' && restarted.reassembly.meta.lastIncludedIndex).toBe(10);
  });
});

describe('snapshots and compaction', () => {
  it('a follower behind the leader floor catches up by chunked InstallSnapshot', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 11, ['a', 'b', 'c'], { snapshotTrailingEntries: 0, snapshotChunkCeiling: 1024 });
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const lagging = [...harness.nodes.values()].find((node) => node !== leader)!;
    harness.isolate(lagging.id);
    for (let request = 1; request <= 40; request += 1) leader.core.propose(harness.now, request, bytes(`command-${request}`), null);
    harness.advance(100);
    const applied = leader.core.applicableIndex;
    expect(applied).toBeGreaterThanOrEqual(41);
    leader.core.publishSnapshot(harness.now, applied, new Uint8Array(5_000).fill(7));
    harness.settle();
    expect(leader.core.compactionFloor).toBe(applied);
    harness.heal();
    harness.advance(300);
    expect(lagging.snapshots).toEqual([applied]);
    expect(lagging.core.compactionFloor).toBe(applied);
    expect(lagging.core.commitIndex).toBe(leader.core.commitIndex);
    leader.core.propose(harness.now, 99, bytes('after'), null);
    harness.advance(100);
    expect(lagging.core.entryAt(leader.core.lastIndex)?.command).toEqual(bytes('after'));
    expect(leader.core.role).toBe('leader'); // the transfer caused no election
  });

  it('keeps a trailing tail of entries behind a published snapshot', () => {
    const harness = createCoreHarness(['a'], 13, ['a'], { snapshotTrailingEntries: 5 });
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    for (let request = 1; request <= 20; request += 1) leader.core.propose(harness.now, request, bytes('x'), null);
    harness.settle();
    leader.core.publishSnapshot(harness.now, 21, bytes('state'));
    harness.settle();
    expect(leader.core.compactionFloor).toBe(16);
    expect(leader.core.entryAt(17)).toBeDefined();
  });
});

describe('a forwarded proposal whose entry a snapshot install covered', () => {
  /**
   * Follower f forwards one proposal; the leader's answer is held back while the leader commits
   * it with the other follower, compacts through `snapshotThrough(forwardIndex)` and f installs
   * that snapshot. Then the held answer arrives.
   */
  function answerAfterInstall(snapshotThrough: (forwardIndex: number, applied: number) => number) {
    const harness = createCoreHarness(['a', 'b', 'c'], 31, ['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
    harness.blocked.add(`${leader.id}->${follower.id}`);
    follower.core.propose(harness.now, 1, bytes('forwarded'), { clientId: 'f-1' as never, requestId: 1 });
    harness.settle();
    const held = harness.sent.find((sent) => sent.from === leader.id && sent.to === follower.id && sent.message.type === 'forwardProposeResponse');
    if (held?.message.type !== 'forwardProposeResponse' || held.message.outcome.type !== 'appended') throw new Error('the leader did not answer the forward');
    const forwardIndex = held.message.outcome.index;
    for (let request = 2; request <= 5; request += 1) leader.core.propose(harness.now, request, bytes(`more-${request}`), null);
    harness.settle();
    const through = snapshotThrough(forwardIndex, leader.core.applicableIndex);
    leader.core.publishSnapshot(harness.now, through, bytes('state'));
    harness.settle();
    expect(leader.core.compactionFloor).toBe(through); // the default compacts up to the snapshot
    harness.heal();
    harness.advance(120); // the install, before f's forward is due to be sent again
    expect(follower.snapshots).toEqual([through]);
    const sentBefore = harness.sent.length;
    follower.core.receive(harness.now, leader.id, held.message);
    harness.settle();
    const forwardsAgain = harness.sent.slice(sentBefore).filter((sent) => sent.message.type === 'forwardPropose');
    return { outcome: follower.outcomes.find((outcome) => outcome.proposalId === 1 && outcome.type !== 'accepted'), forwardIndex, forwardsAgain };
  }

  it('at the snapshot index: the term matches, so it committed, and its entry is rebuilt', () => {
    const { outcome, forwardIndex, forwardsAgain } = answerAfterInstall((forwardIndex) => forwardIndex);
    expect(outcome?.type).toBe('committed');
    if (outcome?.type !== 'committed') return;
    expect(outcome.entry.index).toBe(forwardIndex);
    expect(outcome.entry.command).toEqual(bytes('forwarded'));
    expect(outcome.entry.dedupKey).toEqual({ clientId: 'f-1', requestId: 1 });
    expect(forwardsAgain).toEqual([]);
  });

  it('below it, in the term the leader appended it in: it committed (the same leader made both entries), and its entry is rebuilt', () => {
    const { outcome, forwardIndex, forwardsAgain } = answerAfterInstall((_forwardIndex, applied) => applied);
    expect(outcome?.type).toBe('committed');
    if (outcome?.type !== 'committed') return;
    expect(outcome.entry.index).toBe(forwardIndex);
    expect(outcome.entry.command).toEqual(bytes('forwarded'));
    expect(outcome.entry.dedupKey).toEqual({ clientId: 'f-1', requestId: 1 });
    expect(forwardsAgain).toEqual([]);
  });

  it('below a snapshot of a later term: the request is forwarded afresh and settles at the entry that took effect, once', () => {
    // Until 2026-12-02 the outcome was reported unknown here (LeadershipLostError), and a caller
    // retrying under an auto id would mint a new key and could apply the command twice.
    const harness = createCoreHarness(['a', 'b', 'c'], 31, ['a', 'b', 'c']);
    harness.advance(400);
    const first = harness.leaders()[0]!;
    const [follower, other] = [...harness.nodes.values()].filter((node) => node !== first) as [typeof first, typeof first];
    // f hears its forward's answer but no appends: it waits on (index, term) with its log behind.
    harness.dropWhen = (_from, to, message) => to === follower.id && (message.type === 'appendEntries' || message.type === 'installSnapshot');
    const key = { clientId: 'f-1' as never, requestId: 1 };
    follower.core.propose(harness.now, 1, bytes('forwarded'), key);
    harness.settle();
    const firstTerm = first.core.term;
    const original = [...Array(first.core.lastIndex).keys()].map((offset) => first.core.entryAt(offset + 1)).find((entry) => entry?.dedupKey?.clientId === key.clientId)!;
    expect(original.term).toBe(firstTerm);
    // Leadership moves to the other node, which commits its no-op with the first and compacts
    // through it: its snapshot's last entry is of the new term.
    first.core.transferLeadership(harness.now, 1, other.id);
    harness.advance(400);
    expect(other.core.role).toBe('leader');
    expect(other.core.term).toBeGreaterThan(firstTerm);
    other.core.publishSnapshot(harness.now, other.core.applicableIndex, bytes('state'));
    harness.settle();
    const floor = other.core.compactionFloor;
    expect(other.core.entryAt(floor)).toBeUndefined();
    harness.dropWhen = null;
    harness.advance(400);
    expect(follower.snapshots).toEqual([floor]);
    expect(follower.core.term).toBe(other.core.term);
    expect(follower.outcomes.find((outcome) => outcome.proposalId === 1 && outcome.type !== 'accepted')).toEqual({ type: 'committed', proposalId: 1, entry: { index: original.index, term: firstTerm, command: bytes('forwarded'), isNoOp: false, dedupKey: key } });
    harness.advance(2_000);
    expect(harness.sent.filter((sent) => sent.from === follower.id && sent.message.type === 'forwardPropose').length).toBe(2);
    expect(other.core.lastIndex).toBe(floor); // not appended again
  });

  it("a follower's own compaction stops below its pending forwards", () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 33, ['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
    for (let request = 1; request <= 5; request += 1) leader.core.propose(harness.now, request, bytes(`first-${request}`), null);
    harness.settle();
    const committedBefore = follower.core.commitIndex;
    harness.blocked.add(`${leader.id}->${follower.id}`);
    follower.core.propose(harness.now, 10, bytes('pending'), null);
    harness.settle();
    // f applies nothing new while cut off; it publishes what it has, and keeps the log above the
    // commit index its pending forward started from.
    follower.core.publishSnapshot(harness.now, follower.core.applicableIndex, bytes('state'));
    harness.settle();
    expect(follower.core.compactionFloor).toBe(Math.min(follower.core.applicableIndex, committedBefore));
    harness.heal();
    harness.advance(400);
    expect(follower.outcomes.find((outcome) => outcome.proposalId === 10)?.type).toBe('committed');
  });
});

describe('snapshot with a joint configuration', () => {
  it('records the joint config in force at its index, and a node restored from it is joint too', async () => {
    const { RaftCore } = await import('./raft-core.ts');
    const { resolveRaftConfig } = await import('./config.ts');
    const { nodeId } = await import('./types.ts');
    const harness = createCoreHarness(['a', 'b', 'c', 'd'], 21, ['a', 'b', 'c'], { snapshotTrailingEntries: 0 });
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const four = { voters: ['a', 'b', 'c', 'd'].map((name) => nodeId(name)) };
    // Hold the joint phase: d cannot answer, so C_old,new commits (a, b, c) but C_new waits for nothing else.
    leader.core.changeMembership(harness.now, 1, four);
    harness.settle();
    const jointIndex = leader.core.lastIndex - 1; // C_old,new, then C_new appended once it committed
    const jointEntry = leader.core.entryAt(jointIndex);
    expect(jointEntry?.config?.old).not.toBeNull();
    leader.core.publishSnapshot(harness.now, jointIndex, new Uint8Array([1]));
    const ready = leader.core.takeReady()!;
    expect(ready.snapshot?.meta.config?.old?.voters).toHaveLength(3);
    expect(ready.snapshot?.meta.config?.new.voters).toHaveLength(4);
    const restored = new RaftCore({ id: nodeId('b'), config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [nodeId('a')] }, hardState: { term: leader.core.term, votedFor: null }, leaderPin: null, snapshotMeta: ready.snapshot!.meta, snapshotState: ready.snapshot!.state, entries: [] });
    expect(restored.membershipPayload.old?.voters).toHaveLength(3);
    expect(restored.membership.voters).toHaveLength(4);
  });
});
