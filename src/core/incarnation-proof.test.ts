// Guards incarnation-proof.ts: a leader appends a forward under an auto client id only when the
// proposer's commit index shows that its incarnation is no older than the one its node's last
// entry names, so a dead incarnation's forward that arrives late cannot retire the live id (whose
// later commands every session table would then skip, though propose resolved them committed),
// while a live incarnation, even one restarted on a stale commit index, always gets in.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import { ClientSessionTable } from './client-session-table.ts';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import { bytes, committedIndexOf } from './dedup-scenarios.test-support.ts';
import { LastAutoEntries, maxTrackedAutoNodes } from './incarnation-proof.ts';
import type { ForwardPropose, ForwardProposeResponse } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { clientId, type DedupKey, type NodeId } from './types.ts';

/** Folds a node's committed log through a fresh session table: the indexes it applies. */
function appliedIndexes(node: HarnessNode): Set<number> {
  const table = new ClientSessionTable();
  const applied = new Set<number>();
  for (let index = node.core.compactionFloor + 1; index <= node.core.commitIndex; index += 1) {
    const entry = node.core.entryAt(index);
    if (entry === undefined || entry.isNoOp) continue;
    if (table.shouldApply(entry.dedupKey)) applied.add(index);
  }
  return applied;
}

/**
 * The node's process dies and a new one starts on its storage: what it wrote (its log) survives,
 * nothing in memory does (its pending proposals, the correlation ids it waits on). The harness
 * writes at once, so the log is all of it; the term and the leader it follows are restored too.
 */
function restart(harness: CoreHarness, node: HarnessNode, leader: HarnessNode): void {
  node.core = new RaftCore({
    id: node.id,
    config: resolveRaftConfig({}),
    random: () => 0.25,
    now: harness.now,
    bootstrap: { voters: [...harness.nodes.keys()] },
    hardState: { term: node.core.term, votedFor: leader.id },
    leaderPin: { term: node.core.term, leaderId: leader.id },
    snapshotMeta: null,
    entries: [...node.durable],
  });
}

const autoId = (node: NodeId, digit: string) => clientId(`${node}-${digit.repeat(16)}`);

function answersTo(harness: CoreHarness, node: NodeId): ForwardProposeResponse['outcome'][] {
  return harness.sent.filter((sent) => sent.to === node && sent.message.type === 'forwardProposeResponse').map((sent) => (sent.message as ForwardProposeResponse).outcome);
}

describe('a dead incarnation’s forward that arrives late', () => {
  it('is not appended after the next incarnation’s first entry, whose later committed commands are all applied', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const proposer = [...harness.nodes.values()].find((node) => node !== leader)!;
    // Incarnation 1 of the proposer node (auto id <node>-<16 hex>) forwards one command, then
    // the process dies; the frame is still on the wire (a relay's queue, a congested link).
    const first: DedupKey = { clientId: autoId(proposer.id, '1'), requestId: 1 };
    const stashed: Array<{ from: NodeId; message: ForwardPropose }> = [];
    harness.dropWhen = (from, _to, message) => {
      if (message.type === 'forwardPropose' && message.dedupKey?.clientId === first.clientId) {
        stashed.push({ from, message });
        return true;
      }
      return false;
    };
    proposer.core.propose(harness.now, 1, bytes('from incarnation 1'), first);
    harness.advance(5);
    expect(stashed).toHaveLength(1);
    restart(harness, proposer, leader);
    // Incarnation 2 (fresh suffix) proposes; its first command commits.
    const second = autoId(proposer.id, '2');
    proposer.core.propose(harness.now, 2, bytes('set x=1'), { clientId: second, requestId: 1 });
    harness.advance(50);
    expect(committedIndexOf(proposer.outcomes, 2)).toBeDefined();
    // The dead incarnation's frame arrives now: its commit index cannot show it is newer.
    harness.dropWhen = null;
    const late = stashed[0]!;
    leader.core.receive(harness.now, late.from, late.message);
    harness.advance(50);
    expect(answersTo(harness, proposer.id)).toContainEqual({ type: 'unproven', commitIndexNeeded: committedIndexOf(proposer.outcomes, 2) });
    // The live incarnation goes on proposing; the core tells its caller each one committed.
    proposer.core.propose(harness.now, 3, bytes('set x=2'), { clientId: second, requestId: 2 });
    harness.advance(50);
    const third = committedIndexOf(proposer.outcomes, 3);
    expect(third).toBeDefined();
    // Every replica's session table must apply a command its caller was told committed.
    for (const node of harness.nodes.values()) expect(appliedIndexes(node).has(third!), node.id).toBe(true);
    // And the straggler never reached the log.
    for (let index = 1; index <= leader.core.lastIndex; index += 1) expect(leader.core.entryAt(index)?.dedupKey?.clientId).not.toBe(first.clientId);
  });

  it('is refused however many incarnations ago it was sent: the session table forgets retired ids after 16, the leader’s check does not', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const proposer = [...harness.nodes.values()].find((node) => node !== leader)!;
    const early: DedupKey = { clientId: clientId(`${proposer.id}-00000000000000aa`), requestId: 1 };
    let stashed: ForwardPropose | null = null;
    harness.dropWhen = (_from, _to, message) => {
      if (message.type !== 'forwardPropose' || message.dedupKey?.clientId !== early.clientId) return false;
      stashed ??= message;
      return true;
    };
    proposer.core.propose(harness.now, 1, bytes('early'), early);
    harness.advance(5);
    restart(harness, proposer, leader);
    // Twenty incarnations, one command each.
    let live = early.clientId;
    for (let incarnation = 1; incarnation <= 20; incarnation += 1) {
      live = clientId(`${proposer.id}-${incarnation.toString(16).padStart(16, '0')}`);
      proposer.core.propose(harness.now, 100 + incarnation, bytes(`incarnation ${incarnation}`), { clientId: live, requestId: 1 });
      harness.advance(150);
      expect(committedIndexOf(proposer.outcomes, 100 + incarnation), `incarnation ${incarnation}`).toBeDefined();
      restart(harness, proposer, leader);
    }
    harness.dropWhen = null;
    leader.core.receive(harness.now, proposer.id, stashed!);
    harness.advance(50);
    proposer.core.propose(harness.now, 200, bytes('still live'), { clientId: live, requestId: 2 });
    harness.advance(100);
    const last = committedIndexOf(proposer.outcomes, 200);
    expect(last).toBeDefined();
    expect(appliedIndexes(leader).has(last!)).toBe(true);
  });
});

describe('a live incarnation', () => {
  it('restarted before its predecessor’s last entry committed gets in once it has heard that entry committed', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const [proposer, other] = [...harness.nodes.values()].filter((node) => node !== leader) as [HarnessNode, HarnessNode];
    // The predecessor's last forward is appended, and the process dies before anything of it
    // commits (the third node is cut off, and the leader's frames to the proposer are lost).
    harness.isolate(other.id);
    harness.blocked.add(`${leader.id}->${proposer.id}`);
    const old: DedupKey = { clientId: autoId(proposer.id, '3'), requestId: 1 };
    proposer.core.propose(harness.now, 1, bytes('before the crash'), old);
    harness.advance(5);
    const oldIndex = leader.core.lastIndex;
    expect(leader.core.entryAt(oldIndex)?.dedupKey).toEqual(old);
    expect(leader.core.commitIndex).toBeLessThan(oldIndex);
    restart(harness, proposer, leader);
    // The new incarnation proposes at once; it hears the leader before that entry commits, so its
    // forward cannot prove it is newer than the id the leader's log names last for its node.
    const fresh = autoId(proposer.id, '4');
    proposer.core.propose(harness.now, 2, bytes('after the restart'), { clientId: fresh, requestId: 1 });
    harness.blocked.delete(`${leader.id}->${proposer.id}`);
    // (The leader sends the appends the proposer lost again after a while; then index oldIndex commits.)
    harness.advance(1500);
    expect(answersTo(harness, proposer.id)).toContainEqual({ type: 'unproven', commitIndexNeeded: oldIndex });
    const index = committedIndexOf(proposer.outcomes, 2);
    expect(index).toBeGreaterThan(oldIndex);
    expect(appliedIndexes(leader).has(index!)).toBe(true);
    // Sent again once it knew that much committed.
    const resent = harness.sent.filter((item) => item.message.type === 'forwardPropose' && item.message.dedupKey?.clientId === fresh).map((item) => (item.message as ForwardPropose).proposerCommitIndex);
    expect(resent.length).toBeGreaterThanOrEqual(2);
    expect(resent[0]).toBeLessThan(oldIndex);
    expect(resent[resent.length - 1]).toBeGreaterThanOrEqual(oldIndex);
  });

  it('is never asked for proof for its own id once the leader’s log names it last, nor for a durable id', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const proposer = [...harness.nodes.values()].find((node) => node !== leader)!;
    const live = autoId(proposer.id, '5');
    for (let request = 1; request <= 5; request += 1) {
      proposer.core.propose(harness.now, request, bytes(`auto ${request}`), { clientId: live, requestId: request });
      proposer.core.propose(harness.now, 10 + request, bytes(`durable ${request}`), { clientId: clientId('durable-client'), requestId: request });
    }
    harness.advance(100);
    expect(answersTo(harness, proposer.id).filter((outcome) => outcome.type !== 'appended')).toEqual([]);
    for (let request = 1; request <= 5; request += 1) expect(committedIndexOf(proposer.outcomes, request)).toBeDefined();
  });
});

describe('LastAutoEntries', () => {
  const key = (id: string, requestId = 1): DedupKey => ({ clientId: clientId(id), requestId });

  it('asks nothing of the id its node’s last entry carries, the last entry’s index of another id of that node, and its floor of an unknown node', () => {
    const lastEntries = new LastAutoEntries();
    lastEntries.reset(7);
    lastEntries.note(key('n1-1111111111111111'), 8);
    lastEntries.note(key('durable'), 9);
    lastEntries.note(key('n1-1111111111111111'), 10);
    expect(lastEntries.commitIndexNeeded(key('n1-1111111111111111'))).toBe(0);
    expect(lastEntries.commitIndexNeeded(key('n1-2222222222222222'))).toBe(10);
    expect(lastEntries.commitIndexNeeded(key('n2-2222222222222222'))).toBe(7);
    expect(lastEntries.commitIndexNeeded(key('durable'))).toBe(0);
    expect(lastEntries.commitIndexNeeded(key('also-durable'))).toBe(0);
    expect(lastEntries.commitIndexNeeded(null)).toBe(0);
    // A newer id of n1 takes over: now the older one must prove itself.
    lastEntries.note(key('n1-2222222222222222'), 12);
    expect(lastEntries.commitIndexNeeded(key('n1-1111111111111111'))).toBe(12);
    expect(lastEntries.commitIndexNeeded(key('n1-2222222222222222'))).toBe(0);
    expect(lastEntries.trackedNodes).toBe(1);
  });

  it('stays bounded: a node dropped raises the floor to its last entry, so its ids still have to prove as much', () => {
    const lastEntries = new LastAutoEntries();
    lastEntries.reset(0);
    for (let node = 0; node <= maxTrackedAutoNodes; node += 1) lastEntries.note(key(`n${node}-1111111111111111`), 100 + node);
    expect(lastEntries.trackedNodes).toBe(maxTrackedAutoNodes);
    // n0 (index 100) fell out: any of its ids, even the one it last used, now needs at least that.
    expect(lastEntries.commitIndexNeeded(key('n0-2222222222222222'))).toBeGreaterThanOrEqual(100);
    expect(lastEntries.commitIndexNeeded(key('n0-1111111111111111'))).toBeGreaterThanOrEqual(100);
    expect(lastEntries.commitIndexNeeded(key(`n${maxTrackedAutoNodes}-1111111111111111`))).toBe(0);
  });
});
