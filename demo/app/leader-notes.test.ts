import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from 'raftmesh';
import { createLeaderNotes, leaderlessNoteMs } from './leader-notes.ts';

const [self, wren, bo] = ['peer-self', 'peer-wren', 'peer-bo'].map(nodeId) as [NodeId, NodeId, NodeId];
const names = new Map<string, string>([[wren, 'Wren'], [bo, 'Bo']]);

/** The notes written, and a clock of pending timers moved by hand. */
function following() {
  const lines: string[] = [];
  const timers = new Map<number, { at: number; run: () => void }>();
  let now = 0;
  let next = 0;
  const notes = createLeaderNotes({
    selfId: self,
    note: (wording) => lines.push(typeof wording === 'string' ? wording : wording((id) => names.get(id) ?? id)),
    setTimer: (run, ms) => {
      next += 1;
      timers.set(next, { at: now + ms, run });
      return next;
    },
    clearTimer: (timer) => timers.delete(timer as number),
  });
  const advance = (ms: number): void => {
    now += ms;
    for (const [id, timer] of [...timers]) {
      if (timer.at > now) continue;
      timers.delete(id);
      timer.run();
    }
  };
  return { notes, lines, advance, pending: () => timers.size };
}

describe('the timeline’s notes of who leads', () => {
  it('a late heartbeat (no leader for a moment, then the same leader in the same term) writes nothing', () => {
    const { notes, lines, advance, pending } = following();
    notes.leaderChanged(wren, 12);
    notes.leaderChanged(null, 12);
    advance(50);
    notes.leaderChanged(wren, 12);
    advance(leaderlessNoteMs * 2);
    expect(lines).toEqual(['term 12: Wren leads']);
    expect(pending()).toBe(0);
  });

  it('a spell without a leader past the threshold is noted once, then the new leader', () => {
    const { notes, lines, advance } = following();
    notes.leaderChanged(wren, 12);
    notes.leaderChanged(null, 12);
    notes.leaderChanged(null, 13);
    advance(leaderlessNoteMs);
    notes.leaderChanged(bo, 14);
    notes.leaderChanged(self, 15);
    expect(lines).toEqual(['term 12: Wren leads', 'term 12: no leader for 1 s — electing', 'term 14: Bo leads', 'term 15: this page leads']);
  });

  it('after a noted leaderless spell, the leader heard again is noted, even the same one in the same term', () => {
    const { notes, lines, advance } = following();
    notes.leaderChanged(wren, 12);
    notes.leaderChanged(null, 12);
    advance(leaderlessNoteMs);
    notes.leaderChanged(wren, 12);
    expect(lines).toEqual(['term 12: Wren leads', 'term 12: no leader for 1 s — electing', 'term 12: Wren leads']);
  });

  it('the same leader in a new term is a new line; close cancels a pending note', () => {
    const { notes, lines, advance, pending } = following();
    notes.leaderChanged(wren, 3);
    notes.leaderChanged(wren, 4);
    notes.leaderChanged(null, 4);
    notes.close();
    advance(leaderlessNoteMs * 2);
    expect(lines).toEqual(['term 3: Wren leads', 'term 4: Wren leads']);
    expect(pending()).toBe(0);
  });
});
