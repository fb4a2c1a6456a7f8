import { describe, expect, it } from 'vitest';
import { createEmitter, createWatchable, nodeId, type NodeId } from 'raftmesh';
import { createLastHeard, silentAfterMs } from './last-heard.ts';

const [bo, cy] = ['peer-bo', 'peer-cy'].map(nodeId) as [NodeId, NodeId];

/** The switch's frames and reachable peers, and a clock the test moves by hand. */
function hearing(reachable: NodeId[]) {
  const frames = createEmitter<NodeId>();
  const peers = createWatchable<ReadonlySet<NodeId>>(new Set(reachable));
  const clock = { ms: 10_000 };
  const lastHeard = createLastHeard({ frames, reachable: peers, now: () => clock.ms });
  return { lastHeard, frames, peers, clock };
}

describe('when this page last heard from each peer', () => {
  it('counts from the last frame received, and from zero again when another arrives', () => {
    const { lastHeard, frames, clock } = hearing([bo]);
    frames.emit(bo);
    clock.ms += 2_500;
    expect(lastHeard.heardMsAgo(bo)).toBe(2_500);
    frames.emit(bo);
    expect(lastHeard.heardMsAgo(bo)).toBe(0);
    clock.ms += 50;
    expect(lastHeard.heardMsAgo(bo)).toBe(50);
  });

  it('counts a connection that just opened as hearing from the peer, before any frame', () => {
    const { lastHeard, peers, clock } = hearing([]);
    expect(lastHeard.heardMsAgo(bo)).toBeNull();
    clock.ms += 60_000;
    peers.set(new Set([bo]));
    expect(lastHeard.heardMsAgo(bo)).toBe(0);
    clock.ms += 700;
    expect(lastHeard.heardMsAgo(bo)).toBe(700);
  });

  it('forgets a peer that left, and counts from its new connection when it comes back', () => {
    const { lastHeard, frames, peers, clock } = hearing([bo, cy]);
    frames.emit(bo);
    peers.set(new Set([cy]));
    expect(lastHeard.heardMsAgo(bo)).toBeNull();
    // A frame still in flight from the departed peer does not bring it back.
    frames.emit(bo);
    expect(lastHeard.heardMsAgo(bo)).toBeNull();
    clock.ms += 45_000;
    peers.set(new Set([bo, cy]));
    expect(lastHeard.heardMsAgo(bo)).toBe(0);
    expect(lastHeard.heardMsAgo(cy)).toBe(45_000);
  });

  it('tells the end of a silence at the frame that ends it, with how long it lasted', () => {
    const { lastHeard, frames, peers, clock } = hearing([bo, cy]);
    const ended: string[] = [];
    lastHeard.silenceEnded.subscribe(({ id, silentForMs }) => ended.push(`${id} after ${silentForMs}`));
    clock.ms += silentAfterMs - 1;
    frames.emit(bo); // just under the threshold: not a silence
    clock.ms += silentAfterMs + 700;
    frames.emit(bo);
    frames.emit(bo); // the next frame ends nothing
    expect(ended).toEqual([`${bo} after ${silentAfterMs + 700}`]);
    // A member whose connection closed is forgotten: a new connection, then a frame, end nothing.
    peers.set(new Set([bo]));
    clock.ms += 60_000;
    peers.set(new Set([bo, cy]));
    frames.emit(cy);
    expect(ended).toHaveLength(1);
  });

  it('stops following frames and peers once closed', () => {
    const { lastHeard, frames, peers, clock } = hearing([bo]);
    lastHeard.close();
    clock.ms += 1_000;
    frames.emit(bo);
    peers.set(new Set([bo, cy]));
    expect(lastHeard.heardMsAgo(bo)).toBeNull();
    expect(lastHeard.heardMsAgo(cy)).toBeNull();
  });
});
