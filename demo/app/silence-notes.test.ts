import { describe, expect, it } from 'vitest';
import { createEmitter, createWatchable, nodeId, type NodeId } from 'raftmesh';
import { createLastHeard, silentAfterMs, type LastHeard } from './last-heard.ts';
import { watchSilences } from './silence-notes.ts';

const [bo, cy] = ['peer-bo', 'peer-cy'].map(nodeId) as [NodeId, NodeId];
const names: Record<string, string> = { [bo]: 'Bo', [cy]: 'Cy' };

/**
 * What the model wires: the switch's frames and reachable peers, last-heard on them, and the notes
 * worded as the timeline would draw them. `silencesFirst`: the notes subscribe to the frames before
 * last-heard does, so they see each frame before last-heard counts it (the model's order is the
 * other one; neither may matter).
 */
function hearing(options: { silencesFirst?: boolean } = {}) {
  const frames = createEmitter<NodeId>();
  const peers = createWatchable<ReadonlySet<NodeId>>(new Set([bo, cy]));
  const clock = { ms: 50_000 };
  const notes: string[] = [];
  const note = (wording: (nameOf: (id: string) => string) => string): void => void notes.push(wording((id) => names[id] ?? id));
  let lastHeard: LastHeard | null = null;
  const ended = createEmitter<{ readonly id: NodeId; readonly silentForMs: number }>();
  const start = (): LastHeard => createLastHeard({ frames, reachable: peers, now: () => clock.ms });
  if (!options.silencesFirst) lastHeard = start();
  const silences = watchSilences({
    frames,
    reachable: peers,
    lastHeard: { heardMsAgo: (id) => lastHeard?.heardMsAgo(id) ?? null, silenceEnded: ended },
    note,
  });
  lastHeard ??= start();
  lastHeard.silenceEnded.subscribe((silence) => ended.emit(silence));
  /** `milliseconds` pass with `sender` framing every 50 ms (the leader's heartbeats). */
  const pass = (milliseconds: number, sender: NodeId | null = null): void => {
    for (let elapsed = 0; elapsed < milliseconds; elapsed += 50) {
      clock.ms += 50;
      if (sender !== null) frames.emit(sender);
    }
  };
  return { silences, frames, peers, clock, notes, pass };
}

describe('the timeline’s notes of silences', () => {
  it('notes a member once as it crosses the threshold, however often the page looks, and once when it is heard again', () => {
    const { silences, frames, notes, pass } = hearing();
    frames.emit(cy);
    // Bo leads (a frame every 50 ms); Cy says nothing more. Each look below is a redraw.
    for (let second = 0; second < 10; second += 1) {
      pass(1_000, bo);
      silences.check();
    }
    expect(notes).toEqual(['Cy went silent: nothing received from it for 3 s, though its connection is open']);
    frames.emit(cy);
    frames.emit(cy);
    expect(notes).toEqual(['Cy went silent: nothing received from it for 3 s, though its connection is open', 'Cy is heard again, after 10 s of silence']);
  });

  it('finds a crossing at the next frame from anyone, without a redraw', () => {
    const { frames, notes, pass } = hearing();
    frames.emit(cy);
    pass(silentAfterMs - 50, bo);
    expect(notes).toEqual([]);
    pass(50, bo);
    expect(notes).toEqual(['Cy went silent: nothing received from it for 3 s, though its connection is open']);
  });

  it('notes the end of a silence nobody looked at, with how long it lasted', () => {
    const { frames, peers, notes, clock } = hearing();
    peers.set(new Set([bo]));
    clock.ms += 7_500;
    frames.emit(bo);
    expect(notes).toEqual(['Bo is heard again, after 7 s of silence']);
  });

  for (const silencesFirst of [false, true]) {
    it(`never calls the sender silent at its own frame (notes subscribed ${silencesFirst ? 'before' : 'after'} last-heard)`, () => {
      const { frames, peers, notes, clock, silences } = hearing({ silencesFirst });
      peers.set(new Set([bo]));
      clock.ms += 4_000;
      frames.emit(bo);
      silences.check();
      expect(notes).toEqual(['Bo is heard again, after 4 s of silence']);
    });
  }

  it('while this page is cut off (it reaches nobody), notes no one, and a silence noted before is not “heard again” after', () => {
    const { silences, frames, peers, notes, pass } = hearing();
    frames.emit(bo);
    pass(silentAfterMs, cy);
    expect(notes).toEqual(['Bo went silent: nothing received from it for 3 s, though its connection is open']);
    peers.set(new Set());
    for (let second = 0; second < 30; second += 1) {
      pass(1_000);
      silences.check();
    }
    peers.set(new Set([bo, cy]));
    pass(1_000, bo);
    frames.emit(cy);
    silences.check();
    expect(notes).toEqual(['Bo went silent: nothing received from it for 3 s, though its connection is open']);
  });

  it('forgets a silent member whose connection closed, and notes it afresh if it goes silent on a new one', () => {
    const { silences, frames, peers, notes, pass } = hearing();
    pass(silentAfterMs, bo);
    peers.set(new Set([bo]));
    pass(5_000, bo);
    peers.set(new Set([bo, cy]));
    frames.emit(cy);
    silences.check();
    pass(silentAfterMs, bo);
    expect(notes).toEqual(['Cy went silent: nothing received from it for 3 s, though its connection is open', 'Cy went silent: nothing received from it for 3 s, though its connection is open']);
  });

  it('stops once closed', () => {
    const { silences, frames, notes, pass } = hearing();
    silences.close();
    pass(silentAfterMs * 2, bo);
    silences.check();
    frames.emit(cy);
    expect(notes).toEqual([]);
  });
});
