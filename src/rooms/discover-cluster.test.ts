import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { discoverCluster, freshDiscoveryMemory, heldPeersGraceMs, judgeDiscovery, type Discovery, type DiscoveryOptions } from './discover-cluster.ts';
import type { RoomHello } from './room-channel.ts';
import type { HeardHello, RoomPresence } from './room-presence.ts';
import { collectingRejections } from './unhandled-rejections.test-support.ts';
import { SignalingUnreachableError } from '../signaling/signaling-client.ts';

const newcomer: RoomHello = { type: 'hello', visible: true, member: false, voters: null, term: 0, leader: null };

/** `listed`: who signaling lists in the room (default: the reachable peers, as when every connection forms). */
function options(self: string, heard: Record<string, RoomHello>, reachable: string[] = Object.keys(heard), listed: string[] = reachable): DiscoveryOptions {
  const recent = new Map<NodeId, HeardHello>(Object.entries(heard).map(([peer, hello]) => [nodeId(peer), { hello, at: 0 }]));
  const presence: RoomPresence = { heard: (peer) => recent.get(peer), recent: () => recent, describeSelf: () => {}, close: () => {} };
  return { selfId: nodeId(self), presence, peers: () => new Set(reachable.map(nodeId)), listed: () => new Set(listed.map(nodeId)), clock: new VirtualClock(), discoveryMs: 1_000, pollMs: 100 };
}

describe('judgeDiscovery', () => {
  it('joins the cluster a member names, as a learner of its voters, preferring the highest term', () => {
    const verdict = judgeDiscovery(options('z', { a: { ...newcomer, member: true, voters: [nodeId('a')], term: 1 }, b: { ...newcomer, member: true, voters: [nodeId('a'), nodeId('b'), nodeId('c')], term: 4 } }), 0);
    expect(verdict).toEqual({ type: 'join', bootstrap: { voters: ['a', 'b', 'c'] } });
  });

  it('among newcomers only, the smallest id bootstraps once discoveryMs has passed', () => {
    expect(judgeDiscovery(options('a', { b: newcomer }), 999)).toBeNull();
    expect(judgeDiscovery(options('a', { b: newcomer }), 1_000)).toEqual({ type: 'bootstrap', bootstrap: { voters: ['a'] } });
    expect(judgeDiscovery(options('b', { a: newcomer }), 5_000)).toBeNull();
  });

  it('waits for a silent reachable peer up to twice discoveryMs', () => {
    expect(judgeDiscovery(options('a', {}, ['b']), 1_500)).toBeNull();
    expect(judgeDiscovery(options('a', {}, ['b']), 2_000)).toMatchObject({ type: 'bootstrap' });
  });

  it('a lone page, with nobody listed in the room, still bootstraps once discoveryMs has passed', () => {
    expect(judgeDiscovery(options('m', {}, [], []), 999)).toBeNull();
    expect(judgeDiscovery(options('m', {}, [], []), 1_000)).toEqual({ type: 'bootstrap', bootstrap: { voters: ['m'] } });
  });

  it('never bootstraps beside a peer signaling lists but the transport cannot reach, however long it waits', () => {
    // The split-brain seen in the demo: three pages listed, no connection, each bootstrapped alone.
    expect(judgeDiscovery(options('a', {}, [], ['b', 'c']), 60_000)).toBeNull();
    // Also when the peers it does reach are newcomers with larger ids: the unreachable one may be a member.
    expect(judgeDiscovery(options('a', { b: newcomer }, ['b'], ['b', 'c']), 60_000)).toBeNull();
  });

  it('only the smallest id of the room may bootstrap: a silent smaller peer is never ignored', () => {
    expect(judgeDiscovery(options('b', {}, ['a']), 60_000)).toBeNull();
    expect(judgeDiscovery(options('b', { c: newcomer }, ['c'], ['a', 'c']), 60_000)).toBeNull();
    // A larger silent peer on a live link is still ignored after twice discoveryMs (a member says so at once).
    expect(judgeDiscovery(options('a', {}, ['b']), 2_000)).toMatchObject({ type: 'bootstrap' });
  });

  it('bootstraps as soon as the unreachable peers connect and say they are newcomers', () => {
    expect(judgeDiscovery(options('a', {}, [], ['b', 'c']), 5_000)).toBeNull();
    // c connected but has not said hello yet: waited for as any silent reachable peer is.
    expect(judgeDiscovery(options('a', { b: newcomer }, ['b', 'c']), 1_500)).toBeNull();
    expect(judgeDiscovery(options('a', { b: newcomer, c: newcomer }, ['b', 'c']), 5_000)).toEqual({ type: 'bootstrap', bootstrap: { voters: ['a'] } });
    expect(judgeDiscovery(options('b', { a: newcomer, c: newcomer }, ['a', 'c']), 5_000)).toBeNull();
  });

  it('the witness does not compete for the smallest id, but an unreachable witness still blocks (it may hold the cluster)', () => {
    const withWitness = (base: DiscoveryOptions): DiscoveryOptions => ({ ...base, neverBootstrap: new Set([nodeId('a')]) });
    expect(judgeDiscovery(withWitness(options('b', { a: newcomer })), 1_000)).toMatchObject({ type: 'bootstrap' });
    expect(judgeDiscovery(withWitness(options('b', {}, [], ['a'])), 60_000)).toBeNull();
  });

  it('a member heard anywhere still decides: join it even while other listed peers are unreachable', () => {
    const member: RoomHello = { ...newcomer, member: true, voters: [nodeId('c')], term: 3 };
    expect(judgeDiscovery(options('a', { c: member }, ['c'], ['b', 'c']), 0)).toEqual({ type: 'join', bootstrap: { voters: ['c'] } });
  });

  it('never bootstraps beside a member: one that has seen no commit yet, or one met before and gone now', () => {
    expect(judgeDiscovery(options('a', { b: { ...newcomer, member: true } }), 60_000)).toBeNull();
    const memory = freshDiscoveryMemory();
    judgeDiscovery(options('a', { b: { ...newcomer, member: true } }), 0, memory);
    expect(judgeDiscovery(options('a', {}), 60_000, memory)).toBeNull();
  });

  it('starts despite unreachable peers once the application says so; reachable peers and members still count', () => {
    const anyway = (base: DiscoveryOptions): DiscoveryOptions => ({ ...base, startDespiteUnreachable: () => true });
    expect(judgeDiscovery(anyway(options('b', {}, [], ['a', 'c'])), 1_000)).toEqual({ type: 'bootstrap', bootstrap: { voters: ['b'] } });
    expect(judgeDiscovery(anyway(options('b', {}, ['a'], ['a', 'c'])), 60_000)).toBeNull(); // a smaller reachable id
    expect(judgeDiscovery(anyway(options('a', { b: { ...newcomer, member: true } }, ['b'], ['b', 'c'])), 60_000)).toBeNull();
    expect(judgeDiscovery({ ...options('b', {}, [], ['a', 'c']), startDespiteUnreachable: () => false }, 60_000)).toBeNull();
  });

  it('after a wedge, joins the cluster whose hellos name the sender it refused as leader, whatever term another hello claims; the highest term when none does', () => {
    const room: RoomHello = { ...newcomer, member: true, voters: [nodeId('m'), nodeId('o'), nodeId('p')], term: 5, leader: nodeId('m') };
    const lie: RoomHello = { ...newcomer, member: true, voters: [nodeId('z')], term: 1_000_000, leader: nodeId('z') };
    expect(judgeDiscovery(options('n', { m: room, z: lie }), 0)).toEqual({ type: 'join', bootstrap: { voters: ['z'] } });
    expect(judgeDiscovery({ ...options('n', { m: room, z: lie }), preferClusterOf: nodeId('m') }, 0)).toEqual({ type: 'join', bootstrap: { voters: ['m', 'o', 'p'] } });
    expect(judgeDiscovery({ ...options('n', { m: room, z: lie }), preferClusterOf: nodeId('q') }, 0)).toEqual({ type: 'join', bootstrap: { voters: ['z'] } });
    // Only a claim naming it as leader: a removed member campaigning on its old configuration
    // lists itself among voters but leads nothing.
    const stale: RoomHello = { ...newcomer, member: true, voters: [nodeId('q'), nodeId('r')], term: 2, leader: null };
    expect(judgeDiscovery({ ...options('n', { m: room, q: stale }), preferClusterOf: nodeId('q') }, 0)).toEqual({ type: 'join', bootstrap: { voters: ['m', 'o', 'p'] } });
    // Among the claims that list it, the newest configuration still wins.
    const newer: RoomHello = { ...room, voters: [nodeId('m'), nodeId('o'), nodeId('p'), nodeId('r'), nodeId('s')], term: 6, leader: nodeId('m') };
    expect(judgeDiscovery({ ...options('n', { m: room, o: newer, z: lie }), preferClusterOf: nodeId('m') }, 0)).toEqual({ type: 'join', bootstrap: { voters: ['m', 'o', 'p', 'r', 's'] } });
  });

  it('refuses an id the room lists as a voter while our storage is empty', () => {
    expect(judgeDiscovery(options('a', { b: { ...newcomer, member: true, voters: [nodeId('a'), nodeId('b')], term: 2 } }), 0)).toEqual({ type: 'identityReused' });
  });

  it('refuses an id that any claim lists, whatever claim is newer: a stranger naming a higher term without it does not make it safe (review s52)', () => {
    const room: RoomHello = { ...newcomer, member: true, voters: [nodeId('a'), nodeId('b'), nodeId('c')], term: 3, leader: nodeId('a') };
    const lie: RoomHello = { ...newcomer, member: true, voters: [nodeId('a'), nodeId('b'), nodeId('z')], term: 1_000_000, leader: nodeId('a') };
    expect(judgeDiscovery(options('c', { a: room, z: lie }), 0)).toEqual({ type: 'identityReused' });
    expect(judgeDiscovery(options('c', { a: { ...room, voters: [nodeId('a'), nodeId('b')], learners: [nodeId('c')] }, z: lie }), 0)).toEqual({ type: 'identityReused' });
    // Preferring the refused leader's cluster after a wedge changes nothing to it.
    expect(judgeDiscovery({ ...options('c', { a: room, z: lie }), preferClusterOf: nodeId('a') }, 0)).toEqual({ type: 'identityReused' });
  });

  it('an id no node ever ran under is never refused: a claim naming it a voter is a lie and ignored, one naming it a learner is joined (review s52)', () => {
    const room: RoomHello = { ...newcomer, member: true, voters: [nodeId('a'), nodeId('b'), nodeId('c')], term: 3, leader: nodeId('a') };
    const lie: RoomHello = { ...newcomer, member: true, voters: [nodeId('n'), nodeId('z')], term: 1_000_000, leader: nodeId('z') };
    const fresh = (heard: Record<string, RoomHello>): DiscoveryOptions => ({ ...options('n', heard), neverRanNode: true });
    expect(judgeDiscovery(fresh({ a: room, z: lie }), 0)).toEqual({ type: 'join', bootstrap: { voters: ['a', 'b', 'c'] } });
    // Admitted before it said it runs no node (a leader of an earlier version): safe to follow, it never voted.
    expect(judgeDiscovery(fresh({ a: { ...room, learners: [nodeId('n')] } }), 0)).toEqual({ type: 'join', bootstrap: { voters: ['a', 'b', 'c'] } });
    // Only the lie: nothing to join, and a member was heard, so it waits rather than bootstrap.
    expect(judgeDiscovery(fresh({ z: lie }), 60_000)).toBeNull();
    // Without the flag the same lie costs the id (the safe side for an id that may have run).
    expect(judgeDiscovery(options('n', { a: room, z: lie }), 0)).toEqual({ type: 'identityReused' });
  });
});

describe('discovery waits for signaling to be ready', () => {
  it('never bootstraps before signaling is ready, bootstraps after the window from ready, and gives up waiting after the grace time', async () => {
    const clock = new VirtualClock(0);
    let ready = false;
    const presence: RoomPresence = { heard: () => undefined, recent: () => new Map(), describeSelf: () => {}, close: () => {} };
    const base = { selfId: nodeId('a'), presence, peers: () => new Set<NodeId>(), clock, discoveryMs: 1_000, pollMs: 50, ready: () => ready, readyGraceMs: 5_000 };
    let decided: { at: number; type: string } | null = null;
    void discoverCluster(base).then((verdict) => (decided = { at: clock.now(), type: verdict.type }));
    await clock.advance(3_000); // not ready: an empty peer list proves nothing yet
    expect(decided).toBeNull();
    ready = true;
    await clock.advance(500);
    expect(decided).toBeNull(); // the window runs from the moment signaling became ready
    await clock.advance(700);
    expect(decided).toEqual({ at: expect.any(Number), type: 'bootstrap' });
    expect(decided!.at).toBeGreaterThanOrEqual(4_000);

    let late: { at: number } | null = null;
    const clockTwo = new VirtualClock(0);
    void discoverCluster({ ...base, clock: clockTwo, ready: () => false }).then(() => (late = { at: clockTwo.now() }));
    await clockTwo.advance(5_900);
    expect(late).toBeNull();
    await clockTwo.advance(300); // grace 5 s + window 1 s: a server that is down delays, never blocks
    expect(late).not.toBeNull();
  });
});

describe('discovery without signaling', () => {
  const presenceHearing = (hellos: Map<NodeId, HeardHello>): RoomPresence => ({ heard: () => undefined, recent: () => hellos, describeSelf: () => {}, close: () => {} });

  it('never bootstraps while signaling is not ready, unless the application set a grace; a member heard is joined at once', async () => {
    const clock = new VirtualClock(0);
    const hellos = new Map<NodeId, HeardHello>();
    const base = { selfId: nodeId('a'), presence: presenceHearing(hellos), peers: () => new Set<NodeId>(), clock, discoveryMs: 1_000, pollMs: 50, ready: () => false };
    let decided: Discovery | null = null;
    void discoverCluster(base).then((verdict) => (decided = verdict));
    await clock.advance(120_000); // a server down for two minutes: an empty list proves nothing
    expect(decided).toBeNull();
    hellos.set(nodeId('b'), { hello: { ...newcomer, member: true, voters: [nodeId('b'), nodeId('c')], term: 3, leader: nodeId('b') }, at: clock.now() });
    await clock.advance(100);
    expect(decided).toEqual({ type: 'join', bootstrap: { voters: [nodeId('b'), nodeId('c')] } });
  });

  it('gives up with the reason when signaling stops for good before anyone was heard (a wrong room secret)', async () => {
    const clock = new VirtualClock(0);
    let failure: Error | null = null;
    const base = { selfId: nodeId('a'), presence: presenceHearing(new Map()), peers: () => new Set<NodeId>(), clock, discoveryMs: 1_000, pollMs: 50, ready: () => false, readyGraceMs: 5_000, signalingFailure: () => failure };
    let outcome: unknown = null;
    discoverCluster(base).then((verdict) => (outcome = verdict), (error: unknown) => (outcome = error));
    await clock.advance(1_000);
    expect(outcome).toBeNull();
    failure = new Error('admission-refused: the room secret does not match');
    await clock.advance(100);
    expect(outcome).toBe(failure);
  });

  it('waits on when signaling stops for good after a member was heard: the member may still name its cluster', async () => {
    const clock = new VirtualClock(0);
    const hellos = new Map<NodeId, HeardHello>();
    let failure: Error | null = null;
    const base = { selfId: nodeId('a'), presence: presenceHearing(hellos), peers: () => new Set([nodeId('b')]), clock, discoveryMs: 1_000, pollMs: 50, ready: () => true, signalingFailure: () => failure };
    let outcome: unknown = null;
    discoverCluster(base).then((verdict) => (outcome = verdict), (error: unknown) => (outcome = error));
    // b restarts: a member that names no voters until its node is back.
    hellos.set(nodeId('b'), { hello: { ...newcomer, member: true }, at: clock.now() });
    await clock.advance(500);
    failure = new SignalingUnreachableError('gave up after 10 attempts');
    await clock.advance(2_000);
    expect(outcome).toBeNull();
    hellos.set(nodeId('b'), { hello: { ...newcomer, member: true, voters: [nodeId('b')], term: 2, leader: nodeId('b') }, at: clock.now() });
    await clock.advance(100);
    expect(outcome).toEqual({ type: 'join', bootstrap: { voters: [nodeId('b')] } });
  });
});

describe('discovery across a signaling reconnect', () => {
  it('a reconnect that empties the listed set is not an empty room: peers listed before still block until signaling is ready again without them', async () => {
    const clock = new VirtualClock(0);
    let ready = true;
    let listed = new Set([nodeId('b'), nodeId('c')]); // listed, never reached
    const presence: RoomPresence = { heard: () => undefined, recent: () => new Map(), describeSelf: () => {}, close: () => {} };
    let decided: { at: number; type: string } | null = null;
    const base = { selfId: nodeId('a'), presence, peers: () => new Set<NodeId>(), listed: () => listed, clock, discoveryMs: 1_000, pollMs: 50, ready: () => ready };
    void discoverCluster(base).then((verdict) => (decided = { at: clock.now(), type: verdict.type }));
    await clock.advance(5_000);
    expect(decided).toBeNull();
    // The signaling server restarts: the client lists nobody and is not ready until it joins again.
    listed = new Set();
    ready = false;
    await clock.advance(10_000);
    expect(decided).toBeNull(); // before the fix: bootstrapped alone within one poll
    // Joined again and b, c are still there: still blocked.
    listed = new Set([nodeId('b'), nodeId('c')]);
    ready = true;
    await clock.advance(1_000);
    expect(decided).toBeNull();
    // Another restart, and this time the room the server lists again is empty. The first page back
    // sees a partial list: the others may still be sleeping out their reconnect delay.
    listed = new Set();
    ready = false;
    await clock.advance(1_000);
    expect(decided).toBeNull();
    ready = true;
    await clock.advance(heldPeersGraceMs); // before the fix: bootstrapped 200 ms after rejoining
    expect(decided).toBeNull();
    // Held for the grace (the client's maximum reconnect delay plus discoveryMs): they really left.
    await clock.advance(1_000 + 200);
    expect(decided).toMatchObject({ type: 'bootstrap' });
    expect(decided!.at).toBeGreaterThanOrEqual(5_000 + 10_000 + 1_000 + 1_000 + 1_000 + heldPeersGraceMs);
  });

  it('after a server restart, a listed peer that has not reconnected yet still blocks while others reappear, and blocks as any listed peer once it reappears unreachable', async () => {
    const clock = new VirtualClock(0);
    let ready = true;
    let listed = new Set([nodeId('c'), nodeId('d')]); // c reachable newcomer, d listed but never reached
    const recent = new Map<NodeId, HeardHello>();
    const presence: RoomPresence = { heard: (peer) => recent.get(peer), recent: () => recent, describeSelf: () => {}, close: () => {} };
    let decided: { at: number; type: string } | null = null;
    const base = { selfId: nodeId('a'), presence, peers: () => new Set([nodeId('c')]), listed: () => listed, clock, discoveryMs: 1_000, pollMs: 50, ready: () => ready };
    recent.set(nodeId('c'), { hello: newcomer, at: 0 });
    void discoverCluster(base).then((verdict) => (decided = { at: clock.now(), type: verdict.type }));
    await clock.advance(5_000);
    expect(decided).toBeNull(); // d blocks
    listed = new Set();
    ready = false;
    await clock.advance(2_000);
    // a and c are back first; d is still sleeping out its backoff.
    listed = new Set([nodeId('c')]);
    ready = true;
    await clock.advance(20_000);
    expect(decided).toBeNull();
    // d reappears (still unreachable): it blocks as any listed peer does, past the grace.
    listed = new Set([nodeId('c'), nodeId('d')]);
    await clock.advance(heldPeersGraceMs + 5_000);
    expect(decided).toBeNull();
    // d leaves while signaling is ready: a real departure, not held.
    listed = new Set([nodeId('c')]);
    await clock.advance(200);
    expect(decided).toMatchObject({ type: 'bootstrap' });
  });

  it('a signaling client stopped for good holds nobody: peers it listed before no longer block', async () => {
    const clock = new VirtualClock(0);
    let ready = true;
    let stopped = false;
    let listed = new Set([nodeId('b')]);
    const presence: RoomPresence = { heard: () => undefined, recent: () => new Map(), describeSelf: () => {}, close: () => {} };
    let decided: { type: string } | null = null;
    void discoverCluster({ selfId: nodeId('a'), presence, peers: () => new Set<NodeId>(), listed: () => listed, clock, discoveryMs: 1_000, pollMs: 50, ready: () => ready, signalingClosed: () => stopped }).then((verdict) => (decided = verdict));
    await clock.advance(3_000);
    listed = new Set();
    ready = false;
    await clock.advance(3_000);
    expect(decided).toBeNull();
    stopped = true; // refused for good: b can never reappear in this client's list
    await clock.advance(200);
    expect(decided).toMatchObject({ type: 'bootstrap' });
  });
});

/**
 * discoverCluster run for `self`, which reaches `peer` and is listed beside c, which it cannot
 * reach: what its hellos say (`described`), the hellos it hears (`heard`, set by the test) and
 * its user's choice (`choice.value`).
 */
function announcing(self: string, peer: string, settings: Partial<DiscoveryOptions> = {}) {
  const clock = new VirtualClock(0);
  const described: unknown[] = [];
  const heard = new Map<NodeId, HeardHello>();
  const presence: RoomPresence = { heard: (id) => heard.get(id), recent: () => heard, describeSelf: (describe) => described.push(describe()), close: () => {} };
  const choice = { value: false };
  const controller = new AbortController();
  const done = discoverCluster({ selfId: nodeId(self), presence, peers: () => new Set([nodeId(peer)]), listed: () => new Set([nodeId(peer), nodeId('c')]), clock, discoveryMs: 1_000, pollMs: 50, startDespiteUnreachable: () => choice.value, signal: controller.signal, ...settings }).catch(() => null);
  const stop = async (): Promise<void> => {
    controller.abort(new Error('done'));
    await clock.advance(100);
    await done;
  };
  return { clock, described, heard, choice, stop };
}

describe('starting despite unreachable peers', () => {
  it("a reachable peer's choice never makes a smaller waiting peer bootstrap: it defers to that chooser, which starts once it hears so", () => {
    const chooser: RoomHello = { ...newcomer, startingAnyway: true };
    // a reaches b, neither reaches c. Until review 31 b's choice freed a, which bootstrapped: on
    // anyone's word, a stranger's too.
    const memory = freshDiscoveryMemory();
    expect(judgeDiscovery(options('a', { b: chooser }, ['b'], ['b', 'c']), 60_000, memory)).toBeNull();
    expect(memory.deferringTo).toBe('b');
    // b waits for a's smaller id until a says it defers to b, then starts.
    const choosing = (self: string, heard: Record<string, RoomHello>): DiscoveryOptions => ({ ...options(self, heard, Object.keys(heard), [...Object.keys(heard), 'c']), startDespiteUnreachable: () => true });
    expect(judgeDiscovery(choosing('b', { a: newcomer }), 60_000)).toBeNull();
    expect(judgeDiscovery(choosing('b', { a: { ...newcomer, deferringTo: nodeId('b') } }), 1_000)).toEqual({ type: 'bootstrap', bootstrap: { voters: ['b'] } });
    // A promise to another chooser is not one to b (s33 review: two choosers that cannot reach
    // each other both started on one deferring page).
    expect(judgeDiscovery(choosing('b', { a: { ...newcomer, deferringTo: nodeId('x') } }), 60_000)).toBeNull();
    // A page that did not choose gains nothing from a smaller peer's promise.
    expect(judgeDiscovery(options('b', { a: { ...newcomer, deferringTo: nodeId('b') } }, ['a'], ['a', 'c']), 60_000)).toBeNull();
    // The choice travels only over a live link: a hello from a peer no longer reachable does not count.
    const unreached = freshDiscoveryMemory();
    expect(judgeDiscovery(options('a', { b: chooser }, [], ['b', 'c']), 60_000, unreached)).toBeNull();
    expect(unreached.deferringTo).toBeNull();
  });

  it('makes no promise when nothing holds it back: in a brand-new room all in reach, a claim to start anyway changes nothing', () => {
    const chooser: RoomHello = { ...newcomer, startingAnyway: true };
    const memory = freshDiscoveryMemory();
    expect(judgeDiscovery(options('a', { b: chooser, z: chooser }, ['b', 'z'], ['b', 'z']), 1_000, memory)).toEqual({ type: 'bootstrap', bootstrap: { voters: ['a'] } });
    expect(memory.deferringTo).toBeNull();
  });

  it('defers to the smallest chooser it hears, and keeps that one', () => {
    const chooser: RoomHello = { ...newcomer, startingAnyway: true };
    const memory = freshDiscoveryMemory();
    judgeDiscovery(options('a', { c: chooser }, ['c', 'b'], ['b', 'c', 'd']), 60_000, memory);
    expect(memory.deferringTo).toBe('c');
    judgeDiscovery(options('a', { b: chooser, c: chooser }, ['b', 'c'], ['b', 'c', 'd']), 60_000, memory);
    expect(memory.deferringTo).toBe('c'); // c may have started on it already
    const both = freshDiscoveryMemory();
    judgeDiscovery(options('a', { b: chooser, c: chooser }, ['b', 'c'], ['b', 'c', 'd']), 60_000, both);
    expect(both.deferringTo).toBe('b');
  });

  it('keeps its promise while the chooser may still start, and only joins; released when the chooser takes its choice back, or after it has been gone from the link and the list a while', async () => {
    const chooser: RoomHello = { ...newcomer, startingAnyway: true };
    const clock = new VirtualClock(0);
    const at = (base: DiscoveryOptions): DiscoveryOptions => ({ ...base, clock, helloLifetimeMs: 4_000 });
    const memory = freshDiscoveryMemory();
    judgeDiscovery(at(options('a', { b: chooser }, ['b'], ['b', 'c'])), 0, memory); // held back by c
    // b started and its hello does not say so yet, or b dropped off for a moment: a waits.
    expect(judgeDiscovery(at(options('a', { b: chooser }, ['b'], ['b'])), 60_000, memory)).toBeNull();
    expect(judgeDiscovery(at(options('a', {}, [], ['b'])), 60_000, memory)).toBeNull();
    expect(judgeDiscovery(at(options('a', {}, [], [])), 60_000, memory)).toBeNull();
    await clock.advance(4_999); // discoveryMs + hello lifetime - 1
    expect(judgeDiscovery(at(options('a', {}, [], [])), 60_000, memory)).toBeNull();
    // Its own user's choice does not break it either: b may have started on it.
    expect(judgeDiscovery({ ...at(options('a', {}, [], ['b'])), startDespiteUnreachable: () => true }, 60_000, memory)).toBeNull();
    // It joins the cluster b names.
    expect(judgeDiscovery(at(options('a', { b: { ...newcomer, member: true, voters: [nodeId('b')], term: 1 } }, ['b'], ['b'])), 60_000, memory)).toEqual({ type: 'join', bootstrap: { voters: ['b'] } });

    // Gone from both for discoveryMs and a hello lifetime: released, then a hello lifetime more
    // before it may bootstrap (a chooser may still hold its last hello saying it defers).
    const gone = freshDiscoveryMemory();
    judgeDiscovery(at(options('a', { b: chooser }, ['b'], ['b', 'c'])), 0, gone);
    expect(judgeDiscovery(at(options('a', {}, [], [])), 60_000, gone)).toBeNull();
    await clock.advance(5_000);
    expect(judgeDiscovery(at(options('a', {}, [], [])), 60_000, gone)).toBeNull();
    expect(gone.deferringTo).toBeNull();
    await clock.advance(3_999);
    expect(judgeDiscovery(at(options('a', {}, [], [])), 60_000, gone)).toBeNull();
    await clock.advance(1);
    expect(judgeDiscovery(at(options('a', {}, [], [])), 60_000, gone)).toEqual({ type: 'bootstrap', bootstrap: { voters: ['a'] } });

    // b takes its choice back (its newer hello over a live link, no member): released at once.
    const recanted = freshDiscoveryMemory();
    judgeDiscovery(at(options('a', { b: chooser }, ['b'], ['b', 'c'])), 0, recanted);
    judgeDiscovery(at(options('a', { b: newcomer }, ['b'], ['b'])), 60_000, recanted);
    expect(recanted.deferringTo).toBeNull();
  });

  it('between two choosers the smaller one starts: a page that chose first does not defer', () => {
    const chooser: RoomHello = { ...newcomer, startingAnyway: true };
    const memory = freshDiscoveryMemory();
    expect(judgeDiscovery({ ...options('a', { b: chooser }, ['b'], ['b', 'c']), startDespiteUnreachable: () => true }, 1_000, memory)).toEqual({ type: 'bootstrap', bootstrap: { voters: ['a'] } });
    expect(memory.deferringTo).toBeNull();
    expect(judgeDiscovery({ ...options('b', { a: chooser }, ['a'], ['a', 'c']), startDespiteUnreachable: () => true }, 60_000)).toBeNull();
  });

  it("a chooser defers to another chooser that a smaller reachable page has already promised: that page would block it for good", () => {
    const chooser: RoomHello = { ...newcomer, startingAnyway: true };
    const memory = freshDiscoveryMemory();
    // a promised c; b chose too, and is smaller than c: b waits on a, c on b, until b defers to c.
    expect(judgeDiscovery({ ...options('b', { a: { ...newcomer, deferringTo: nodeId('c') }, c: chooser }, ['a', 'c'], ['a', 'c', 'd']), startDespiteUnreachable: () => true }, 60_000, memory)).toBeNull();
    expect(memory.deferringTo).toBe('c');
    // Not to a promise it cannot see the chooser of, nor to one made to itself.
    const unseen = freshDiscoveryMemory();
    judgeDiscovery({ ...options('b', { a: { ...newcomer, deferringTo: nodeId('c') } }, ['a'], ['a', 'c', 'd']), startDespiteUnreachable: () => true }, 60_000, unseen);
    expect(unseen.deferringTo).toBeNull();
    const own = freshDiscoveryMemory();
    expect(judgeDiscovery({ ...options('b', { a: { ...newcomer, deferringTo: nodeId('b') }, c: chooser }, ['a', 'c'], ['a', 'c', 'd']), startDespiteUnreachable: () => true }, 1_000, own)).toEqual({ type: 'bootstrap', bootstrap: { voters: ['b'] } });
    expect(own.deferringTo).toBeNull();
  });

  it('a witness neither claims to start nor defers, and nobody defers to it', () => {
    const chooser: RoomHello = { ...newcomer, startingAnyway: true };
    const witness = freshDiscoveryMemory();
    judgeDiscovery({ ...options('a', { b: chooser }, ['b'], ['b', 'c']), mayBootstrap: false }, 60_000, witness);
    expect(witness.deferringTo).toBeNull();
    const page = freshDiscoveryMemory();
    judgeDiscovery({ ...options('a', { w: chooser }, ['w'], ['w', 'c']), neverBootstrap: new Set([nodeId('w')]) }, 60_000, page);
    expect(page.deferringTo).toBeNull();
  });

  it('announces the choice in its hellos as soon as it is made, and only while it holds', async () => {
    const { clock, described, choice, stop } = announcing('b', 'a');
    await clock.advance(2_000);
    expect(described).toEqual([]);
    choice.value = true;
    await clock.advance(60);
    expect(described).toEqual([{ member: false, voters: null, term: 0, leader: null, startingAnyway: true }]);
    choice.value = false;
    await clock.advance(60);
    expect(described.at(-1)).toEqual({ member: false, voters: null, term: 0, leader: null });
    await stop();
  });

  it("announces that it defers as soon as it hears a reachable chooser, and then never claims to start itself", async () => {
    const { clock, described, heard, choice, stop } = announcing('a', 'b');
    await clock.advance(2_000);
    heard.set(nodeId('b'), { hello: { ...newcomer, startingAnyway: true }, at: clock.now() });
    await clock.advance(60);
    expect(described).toEqual([{ member: false, voters: null, term: 0, leader: null, deferringTo: 'b' }]);
    choice.value = true;
    await clock.advance(200);
    expect(described).toHaveLength(1);
    await stop();
  });

  it('a witness never announces a choice to start anyway: it cannot start, and a smaller page would wait on it', async () => {
    const { clock, described, choice, stop } = announcing('w', 'a', { mayBootstrap: false });
    choice.value = true;
    await clock.advance(3_000);
    expect(described).toEqual([]);
    await stop();
  });

  it('a startDespiteUnreachable callback that throws counts as "no", and the error is reported apart instead of failing the join', async () => {
    const throwing = { ...options('b', {}, [], ['a', 'c']), startDespiteUnreachable: (): boolean => {
      throw new Error('application bug');
    } };
    const rejections = await collectingRejections(async () => {
      expect(judgeDiscovery(throwing, 60_000)).toBeNull(); // before the fix: threw, and joinRoom failed
      const clock = new VirtualClock(0);
      const controller = new AbortController();
      const done = discoverCluster({ ...throwing, clock, signal: controller.signal }).catch((error: unknown) => error);
      await clock.advance(200);
      controller.abort(new Error('stop'));
      await clock.advance(100);
      expect(await done).toMatchObject({ message: 'stop' });
    });
    expect(rejections.length).toBeGreaterThanOrEqual(2);
    expect(rejections.every((reason) => reason instanceof Error && reason.message === 'application bug')).toBe(true);
  });
});
