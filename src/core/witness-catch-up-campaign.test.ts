// A candidate whose configuration a witness's catch-up changed mid-election counted its votes
// against the new, smaller configuration and won a term another node already led; later a
// committed entry was applied differently on two nodes (found by a review with real engines and
// delays the simulator makes: a delayed vote request, a slow grant, a one-way loss). A catch-up
// now ends any campaign under way (catch-up.ts).
import { expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { readyNeedsWrite } from './ready.ts';
import { nodeId, type ClusterConfig, type NodeId } from './types.ts';

const [a, b, w, x, y] = ['a', 'b', 'w', 'x', 'y'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId, NodeId];
const five: ClusterConfig = { voters: [a, b, w, x, y], learners: [] };

function make(id: NodeId, witness = false): RaftCore {
  const core = new RaftCore({ id, config: resolveRaftConfig({ witness, electionTimeoutMin: 150, electionTimeoutMax: 300 }), random: () => 0.5, now: 0, bootstrap: five, hardState: { term: 0, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
  core.tracing = true;
  return core;
}

it('a catch-up that changes a candidate\'s configuration ends its campaign: one leader per term, one entry per index', () => {
  const cores = new Map<NodeId, RaftCore>([a, b, w, x, y].map((id) => [id, make(id, id === w)]));
  const get = (id: NodeId): RaftCore => cores.get(id) as RaftCore;
  const applied = new Map<NodeId, Map<number, string>>([a, b, w, x, y].map((id) => [id, new Map()]));
  let drop: (from: NodeId, to: NodeId, m: RaftMessage) => boolean = () => false;
  const aOutcomes: unknown[] = [];
  const held: Array<{ from: NodeId; to: NodeId; message: RaftMessage }> = [];
  const pump = (now: number): void => {
    for (let round = 0; round < 1000; round += 1) {
      const queue: Array<{ from: NodeId; to: NodeId; message: RaftMessage }> = [];
      for (const [id, core] of cores) {
        for (;;) {
          const ready = core.takeReady();
          if (ready === null) break;
          for (const o of ready.outcomes) if (id === a) aOutcomes.push(o);
          for (const m of ready.messages) queue.push({ from: id, to: m.to, message: m.message });
          if (readyNeedsWrite(ready)) {
            const last = ready.entries[ready.entries.length - 1];
            core.persisted(now, last === undefined ? null : { index: last.index, term: last.term }, ready.snapshot?.meta.lastIncludedIndex ?? 0);
          }
          for (const m of ready.messagesAfterPersist) queue.push({ from: id, to: m.to, message: m.message });
          const through = Math.min(core.commitIndex, core.applicableIndex);
          const mine = applied.get(id) as Map<number, string>;
          for (let i = mine.size + 1; i <= through; i += 1) {
            const e = core.entryAt(i);
            if (e !== undefined) mine.set(i, `${e.term}:${e.isNoOp ? 'noop' : e.config ? 'config' : new TextDecoder().decode(e.command)}`);
          }
        }
      }
      if (queue.length === 0) return;
      for (const item of queue) {
        if (drop(item.from, item.to, item.message)) continue;
        get(item.to).receive(now, item.from, item.message);
      }
    }
  };
  // t=225: a and b time out together and pre-vote; x and y grant both pre-votes.
  drop = (from, to, m) => {
    // b's real vote requests to w and x are delayed (held), as a slow or duplicated frame would be.
    if (from === b && (to === w || to === x) && m.type === 'requestVote' && !m.preVote) {
      held.push({ from, to, message: m });
      return true;
    }
    // y votes for b (b's request reaches it first); a's request to y is lost.
    if (from === a && to === y && m.type === 'requestVote' && !m.preVote) return true;
    // a's frames to b are lost (b is cut off from a one way).
    if (from === a && to === b) return true;
    // y's vote for b is slow.
    if (from === y && to === b && m.type === 'requestVoteResponse' && !m.preVote) {
      held.push({ from, to, message: m });
      return true;
    }
    return false;
  };
  get(a).tick(225);
  get(b).tick(225);
  pump(226);
  expect(get(a).role).toBe('leader');
  const term = get(a).term;
  expect(get(b).role).toBe('candidate');
  expect(get(b).term).toBe(term);
  // a changes the configuration to {a, b, y}: joint, then C_new, all in its term (w gets both).
  drop = (from, to, m) => (from === a && to === b) || (from === b && (to === w || to === x) && m.type === 'requestVote' && !m.preVote ? (held.push({ from, to, message: m }), true) : false);
  get(a).changeMembership(230, 1, { voters: [a, b, y], learners: [] });
  for (let t = 230; t <= 245; t += 5) {
    get(a).tick(t);
    pump(t);
  }
  expect(get(w).membership.voters).toEqual([a, b, y]);
  expect(get(w).lastIndex).toBe(3);
  // w loses a (partition) and hears no live leader from 245 + 150.
  drop = (from, to) => (from === a && to === w) || (from === w && to === a) || (from === a && to === b);
  // a takes a client command at index 4; only y gets it for now (committed with y: {a, b, y}).
  get(a).propose(246, 1, new TextEncoder().encode('A4'), null);
  pump(246);
  expect(get(a).role).toBe('leader');
  expect(get(y).entryAt(4)?.term).toBe(1);
  expect(aOutcomes).toContainEqual(expect.objectContaining({ type: 'committed', proposalId: 1 }));
  // At 400, still before b's election deadline (226 + 225), w gets b's delayed vote request.
  expect(held.find(({ to }) => to === w)).toBeDefined();
  const request = held.find(({ to }) => to === w) as { from: NodeId; to: NodeId; message: RaftMessage };
  get(w).receive(400, b, request.message);
  // w's answers: the catch-up reaches b; w's denial (naming a) is slower than y's vote.
  const wDenials: RaftMessage[] = [];
  drop = (from, to, m) => {
    if (from === w && to === b && m.type === 'requestVoteResponse') return (wDenials.push(m), true);
    return (from === a && to === w) || (from === w && to === a) || (from === a && to === b);
  };
  pump(401);
  const yVote = held.find(({ from }) => from === y) as { from: NodeId; to: NodeId; message: RaftMessage };
  expect(yVote.message).toMatchObject({ type: 'requestVoteResponse', granted: true, preVote: false });
  get(b).receive(402, y, yVote.message);
  pump(402);
  for (const m of wDenials) get(b).receive(403, w, m);
  pump(403);
  // b took the catch-up (its configuration is now {a, b, y}) and ended its campaign, so y's late
  // vote elects nobody: b used to lead term 1 beside a here.
  expect(get(b).membership.voters).toEqual([a, b, y]);
  expect(get(b).role).toBe('follower');
  expect(get(a).role).toBe('leader');
  // The partitions heal: b follows a.
  drop = () => false;
  for (let t = 404; t <= 1_600; t += 5) {
    for (const core of cores.values()) core.tick(t);
    pump(t);
  }
  expect([get(a).role, get(b).role, get(a).term, get(b).term]).toEqual(['leader', 'follower', 1, 1]);
  // a (the leader that acknowledged A4 to its client) stops for good; the others go on, and every
  // node that applied index 4 applied A4 (b used to apply its own no-op there).
  drop = (from, to) => from === a || to === a;
  for (let t = 1_605; t <= 4_000; t += 5) {
    for (const [id, core] of cores) if (id !== a) core.tick(t);
    pump(t);
  }
  const atFour = new Set([a, b, w, x, y].map((id) => applied.get(id)?.get(4)).filter((value) => value !== undefined));
  expect([...atFour]).toEqual(['1:A4']);
});
