// The room simulation's judge of removing a present member (LinkHistory): over a link the
// remover could not use for as long as the policy waits, and, before it led, neither could the
// leader before it. The case a review found in the first form of the shared unreachable clock
// (adfaf06): a link between two followers down, one of them elected, the other removed at once.
import { describe, expect, it } from 'vitest';
import { createEmitter, createWatchable, type WritableWatchable } from '../core/observable.ts';
import { nodeId, type NodeId, type RaftEnvelope } from '../core/types.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { LinkHistory, type RemovalAllowance } from './room-simulation-links.test-support.ts';

const [a, f, m] = [nodeId('a'), nodeId('f'), nodeId('m')];
const allowance: RemovalAllowance = { waitMs: 1_500, unseenGapMs: 100, handoverMs: 1_325 };

/** Three peers that reach each other, each by a peers list the test sets. */
function threePeers() {
  const clock = new VirtualClock(0);
  const links = new LinkHistory(() => clock.now());
  const lists = new Map<NodeId, WritableWatchable<ReadonlySet<NodeId>>>();
  for (const id of [a, f, m]) {
    const peers = createWatchable<ReadonlySet<NodeId>>(new Set([a, f, m].filter((other) => other !== id)));
    lists.set(id, peers);
    links.watch(id, { selfId: id, peers, send: () => {}, incoming: createEmitter<RaftEnvelope>() });
  }
  /** Cuts (or restores) the link between two peers both ways. */
  const cut = (one: NodeId, other: NodeId, isCut: boolean): void => {
    for (const [from, to] of [[one, other], [other, one]] as const) {
      const peers = new Set(lists.get(from)!.value);
      if (isCut) peers.delete(to);
      else peers.add(to);
      lists.get(from)!.set(peers);
    }
  };
  return { clock, links, cut };
}

/**
 * `before` leads term 1 for a second; then the link between f and m is cut for 3 s and f leads
 * term 2: the moment a new leader may want to remove m.
 */
async function fElectedAfterCut(before: NodeId) {
  const peers = threePeers();
  peers.links.led(before, 1);
  await peers.clock.advance(1_000);
  peers.cut(f, m, true);
  await peers.clock.advance(3_000);
  peers.links.led(f, 2);
  return peers;
}

describe('the room simulation judging the removal of a present member', () => {
  it('refuses a new leader removing at once a member only its own link lost, while the leader before reached it', async () => {
    const { links } = await fElectedAfterCut(a);
    expect(links.whyRemovalUnjustified(f, m, allowance)).toMatch(/^a, which led before f took over at 4000, reached it/);
  });

  it('refuses a new leader removing at once the leader before it, which its own link alone lost', async () => {
    const { clock, links } = await fElectedAfterCut(m);
    expect(links.whyRemovalUnjustified(f, m, allowance)).toMatch(/^m, which led before f took over at 4000, led itself/);
    await clock.advance(1_500);
    expect(links.whyRemovalUnjustified(f, m, allowance)).toBeNull();
  });

  it('accepts it once the new leader has not reached the member for the whole wait, and refuses a link restored meanwhile', async () => {
    const { clock, links, cut } = await fElectedAfterCut(a);
    await clock.advance(1_500);
    expect(links.whyRemovalUnjustified(f, m, allowance)).toBeNull();
    // Restored for longer than a look apart, then cut again: counted afresh.
    cut(f, m, false);
    await clock.advance(150);
    cut(f, m, true);
    await clock.advance(1_000);
    expect(links.whyRemovalUnjustified(f, m, allowance)).toMatch(/^f reached it within the last 1500 ms/);
  });

  it('accepts a new leader removing at once a member the leader before could not reach either', async () => {
    const { clock, links, cut } = threePeers();
    links.led(a, 1);
    await clock.advance(1_000);
    cut(a, m, true);
    cut(f, m, true);
    await clock.advance(3_000);
    links.led(f, 2);
    expect(links.whyRemovalUnjustified(f, m, allowance)).toBeNull();
  });

  it('bridges a restore shorter than a look apart, which the remover may not have seen', async () => {
    const { clock, links, cut } = threePeers();
    links.led(f, 1);
    cut(f, m, true);
    await clock.advance(800);
    cut(f, m, false);
    await clock.advance(60);
    cut(f, m, true);
    await clock.advance(700);
    expect(links.whyRemovalUnjustified(f, m, allowance)).toBeNull();
  });
});
