// Two ways the first version of held answers (held-answers.ts) stalled, found by a review, each
// run on real cores exchanging frames on a 1 ms step:
// - a new leader's probe answer lost once: the resent probe's answer (match 6) was held and then
//   replaced by the heartbeat's (match 4, the leader's lagging view), every heartbeat, so the
//   leader never saw the probe answered and its no-op, reads and a transfer waited for a proposal;
// - a follower whose in-flight window was lost got only commit news, faster than the hold: each
//   answer restarted the hold, so the follower said nothing until stall detection, 300 ms later.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { readyNeedsWrite } from './ready.ts';
import { nodeId, type LogEntry, type NodeId } from './types.ts';

interface Frame {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: RaftMessage;
}

interface Outcomes {
  readonly reads: number;
  readonly transfers: Array<string | null>;
}

/**
 * Runs `nodes` from 0 to `untilMs` in 1 ms steps: every write completes at once, every frame
 * arrives in the step it was sent unless `lost` says otherwise. `each` runs after every tick.
 */
function run(nodes: ReadonlyMap<NodeId, RaftCore>, untilMs: number, lost: (frame: Frame, now: number) => boolean, each: (now: number) => void = () => {}): Outcomes {
  const outcomes = { reads: 0, transfers: [] as Array<string | null> };
  for (let now = 0; now <= untilMs; now += 1) {
    for (const core of nodes.values()) core.tick(now);
    each(now);
    for (let round = 0; round < 50; round += 1) {
      const frames: Frame[] = [];
      for (const [id, core] of nodes) {
        const ready = core.takeReady();
        if (ready === null) continue;
        outcomes.reads += ready.reads.filter((read) => 'readIndex' in read).length;
        for (const transfer of ready.transfers) outcomes.transfers.push(transfer.failure);
        if (readyNeedsWrite(ready)) {
          const last = ready.entries[ready.entries.length - 1];
          core.persisted(now, last === undefined ? null : { index: last.index, term: last.term });
        }
        for (const outbound of [...ready.messages, ...ready.messagesAfterPersist]) frames.push({ from: id, to: outbound.to, message: outbound.message });
      }
      if (frames.length === 0) break;
      for (const frame of frames) {
        const target = nodes.get(frame.to);
        if (target !== undefined && !lost(frame, now)) target.receive(now, frame.from, frame.message);
      }
    }
  }
  return outcomes;
}

describe('held answers never stall replication', () => {
  const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];
  const entry = (index: number): LogEntry => ({ index, term: 1, command: new Uint8Array([index]), isNoOp: false });
  /** b and c hold entries 1-5 of term 1 with commit index 4: their leader a is down, and b will win term 2. */
  const survivors = (): Map<NodeId, RaftCore> =>
    new Map(
      ([[b, 0], [c, 0.99]] as const).map(([id, draw]) => [id, new RaftCore({ id, config: resolveRaftConfig({}), random: () => draw, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 1, votedFor: null }, leaderPin: { term: 1, leaderId: a }, snapshotMeta: null, entries: [1, 2, 3, 4, 5].map(entry), commitIndex: 4 })]),
    );
  /** Loses c's first successful answer of term 2: the one to the new leader's probe. */
  const firstAnswerLost = (): ((frame: Frame) => boolean) => {
    let lost = false;
    return (frame) => {
      if (lost || frame.from !== c || frame.message.type !== 'appendEntriesResponse' || frame.message.term !== 2 || !frame.message.success) return false;
      lost = true;
      return true;
    };
  };

  it('a new leader whose probe answer was lost commits its no-op and serves a read while the cluster is idle', () => {
    const nodes = survivors();
    const leader = nodes.get(b) as RaftCore;
    let asked = false;
    const outcomes = run(nodes, 3_000, firstAnswerLost(), (now) => {
      if (asked || leader.role !== 'leader') return;
      asked = true;
      leader.requestRead(now, 1);
    });
    expect(leader.role).toBe('leader');
    expect(leader.term).toBe(2);
    expect(leader.commitIndex).toBe(6); // entry 5 of term 1 and the no-op
    expect(outcomes.reads).toBe(1);
  });

  it('and hands leadership to that follower', () => {
    const nodes = survivors();
    const outcomes = run(nodes, 3_000, firstAnswerLost(), (now) => {
      if (now === 2_000) (nodes.get(b) as RaftCore).transferLeadership(now, 1, c);
    });
    expect(outcomes.transfers).toEqual([null]);
    expect((nodes.get(c) as RaftCore).role).toBe('leader');
  });

  it('a follower that lost its in-flight window keeps answering under steady commit news', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'].map((name) => nodeId(name));
    const [, leaderId, , , e] = ids as [NodeId, NodeId, NodeId, NodeId, NodeId];
    const nodes = new Map(ids.map((id) => [id, new RaftCore({ id, config: resolveRaftConfig({}), random: () => (id === leaderId ? 0 : 0.99), now: 0, bootstrap: { voters: ids }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] })]));
    const leader = nodes.get(leaderId) as RaftCore;
    let proposal = 1;
    let lastAnswer = 300;
    let longestGap = 0;
    let silentMs = 0;
    run(
      nodes,
      1_500,
      (frame, now) => {
        // The leader's AppendEntries carrying entries to e are lost from 300 to 400 ms.
        if (frame.from === leaderId && frame.to === e && frame.message.type === 'appendEntries' && frame.message.entries.length > 0 && now >= 300 && now < 400) return true;
        if (frame.from === e && frame.message.type === 'appendEntriesResponse' && now >= 300) {
          longestGap = Math.max(longestGap, now - lastAnswer);
          lastAnswer = now;
        }
        return false;
      },
      (now) => {
        if (leader.role === 'leader' && now >= 50) leader.propose(now, proposal++, new Uint8Array([1]), null);
        if (leader.role === 'leader' && leader.silentPeers().has(e)) silentMs += 1;
      },
    );
    expect(leader.role).toBe('leader');
    expect(longestGap).toBeLessThanOrEqual(5); // one answer a hold at least
    expect(silentMs).toBe(0);
    expect(leader.matchIndexes().get(e)).toBeGreaterThanOrEqual(leader.commitIndex - 2); // caught up again
  });
});
