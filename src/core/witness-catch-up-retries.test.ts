// A voter's campaigns against a witness alone (every other member gone), in batches of 19
// entries (maxAppendBytes 1024; a WebRTC transport's frame bound makes a few hundred): the
// witness offers again when the voter asks again with the same log, after a lost batch as after
// one that did not start on the voter's log (a review found a lost batch left the voter without
// an offer for good), and never goes silent.
import { describe, expect, it } from 'vitest';
import { drainReady } from './core-harness.test-support.ts';
import { resolveRaftConfig } from './config.ts';
import type { CatchUpEntries, RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import type { Ready } from './ready.ts';
import { nodeId, type ClusterConfig, type LogEntry, type NodeId } from './types.ts';

const [a, b, w, x, y] = ['a', 'b', 'w', 'x', 'y'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId, NodeId];
const entry = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array([index & 0xff]), isNoOp: false });
const logOf = (...terms: number[]): LogEntry[] => terms.map((term, position) => entry(position + 1, term));
const repeat = (term: number, count: number): number[] => Array.from({ length: count }, () => term);

function node(id: NodeId, config: ClusterConfig, entries: readonly LogEntry[], options: { witness?: boolean; term?: number } = {}): RaftCore {
  // maxAppendBytes 1024 (the smallest allowed): 19 one-byte entries per batch, as a WebRTC
  // transport's ordered frame bound (~16 KiB) makes a few hundred per batch in a room.
  const core = new RaftCore({ id, config: resolveRaftConfig({ witness: options.witness ?? false, electionTimeoutMin: 150, electionTimeoutMax: 300, maxAppendBytes: 1024 }), random: () => 0.5, now: 0, bootstrap: config, hardState: { term: options.term ?? 3, votedFor: null }, leaderPin: null, snapshotMeta: null, entries });
  core.tracing = true;
  core.takeReady();
  return core;
}
const outbound = (ready: Ready | null): Array<{ to: NodeId; message: RaftMessage }> => [...(ready?.messages ?? []), ...(ready?.messagesAfterPersist ?? [])];

/** Runs the voter's campaigns against the witness alone (every other member gone) for `ms`. */
function campaign(voter: RaftCore, witness: RaftCore, ms: number, dropCatchUp: (count: number) => boolean): { sent: CatchUpEntries[]; ignored: string[] } {
  const sent: CatchUpEntries[] = [];
  const ignored: string[] = [];
  let now = 0;
  while (now < ms && voter.role !== 'leader') {
    now = voter.nextDeadline();
    voter.tick(now);
    const queue = outbound(drainReady(voter)).filter(({ to }) => to === w);
    while (queue.length > 0) {
      const { message } = queue.shift() as { to: NodeId; message: RaftMessage };
      witness.receive(now, voter.id, message);
      for (const answer of outbound(drainReady(witness))) {
        if (answer.message.type === 'catchUpEntries') {
          sent.push(answer.message);
          if (dropCatchUp(sent.length)) continue;
        }
        voter.receive(now, w, answer.message);
        const ready = drainReady(voter);
        for (const event of ready?.trace ?? []) if (event.type === 'catchUpIgnored') ignored.push(event.reason);
        queue.push(...outbound(ready).filter(({ to }) => to === w));
      }
    }
  }
  return { sent, ignored };
}

describe('a witness asked again by a voter with the same log', () => {
  const three: ClusterConfig = { voters: [a, b, w], learners: [] };

  it('nothing lost: a voter 20 entries behind is caught up in two batches and leads', () => {
    const witness = node(w, three, logOf(...repeat(1, 60)), { witness: true });
    const voter = node(b, three, logOf(...repeat(1, 40)));
    const { sent } = campaign(voter, witness, 60_000, () => false);
    expect(voter.role).toBe('leader');
    expect(sent.map((batch) => batch.prevLogIndex)).toEqual([40, 59]);
  });

  it('a batch lost on the way: the next ask gets the same batch again, and the voter leads', () => {
    const witness = node(w, three, logOf(...repeat(1, 60)), { witness: true });
    const voter = node(b, three, logOf(...repeat(1, 40)));
    const { sent, ignored } = campaign(voter, witness, 60_000, (count) => count === 1);
    // One term further back would be the floor, and a batch from there ends behind the voter's
    // log: the witness sends the batch that was lost again instead.
    expect(sent.map((batch) => batch.prevLogIndex)).toEqual([40, 40, 59]);
    expect(ignored).toEqual([]);
    expect(voter.role).toBe('leader');
    expect(voter.lastIndex).toBeGreaterThan(60);
  });

  it('a voter whose divergent tail is longer than one batch is not caught up (a documented limit), and the witness keeps offering', () => {
    // Five members, two of them gone: b wrote 2..31 at term 3 alone; x led term 2 (2..31 to w)
    // and term 4 (32), and is gone too. w holds 1:t1, 2..31:t2, 32:t4; b holds 1:t1, 2..31:t3.
    // The batch that starts on b's log (after 1) ends at 20:t2, behind b's 31:t3, so b can take
    // no batch: it waits for x, as before catch-up existed (README "Two-peer rooms and the witness").
    const five: ClusterConfig = { voters: [a, b, w, x, y], learners: [] };
    const witness = node(w, five, logOf(1, ...repeat(2, 30), 4), { witness: true, term: 4 });
    const voter = node(b, five, logOf(1, ...repeat(3, 30)), { term: 4 });
    const { sent, ignored } = campaign(voter, witness, 60_000, () => false);
    expect(voter.lastIndex).toBe(31);
    expect(voter.termAt(31)).toBe(3);
    expect(new Set(ignored)).toEqual(new Set(['logsDiverge']));
    // Never silent: an offer every time it is asked, not three and then nothing.
    expect(sent.length).toBeGreaterThan(50);
  });
});
