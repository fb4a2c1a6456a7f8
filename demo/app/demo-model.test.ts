import { describe, expect, it } from 'vitest';
import { createEmitter, createWatchable, nodeId, type NodeId, type RaftNode } from 'raftmesh';
import { createDemoModel, type StoreLike } from './demo-model.ts';
import { silentAfterMs } from './last-heard.ts';
import type { PartitionSwitch, PeerStatus } from './partition-switch.ts';
import type { PeerRelease } from './peer-release.ts';
import { createRememberedNames, type NameStorage } from './remembered-names.ts';

const [self, bo, cy] = ['peer-self', 'peer-bo', 'peer-cy'].map(nodeId) as [NodeId, NodeId, NodeId];

/** Only what the model reads: a leader of three voters at commit 40, Bo matched at 40, Cy at 25. */
function world(role: 'leader' | 'follower', nameStorage?: NameStorage) {
  const node = {
    id: self,
    role: createWatchable(role),
    leader: createWatchable<NodeId | null>(role === 'leader' ? self : bo),
    term: createWatchable(3),
    membership: createWatchable({ voters: [self, bo, cy] }),
    commitIndex: createWatchable(40),
    stopped: createWatchable<Error | null>(null),
    replicationProgress: () => new Map([[bo, 40], [cy, 25]]),
  } as unknown as RaftNode;
  const store = { appliedIndex: createWatchable(40) } as unknown as StoreLike;
  const statuses = createEmitter<{ from: NodeId; status: PeerStatus }>();
  const frames = createEmitter<NodeId>();
  const peers = createWatchable<ReadonlySet<NodeId>>(new Set([bo, cy]));
  const partition = { statuses, frames, peers } as unknown as PartitionSwitch;
  const clock = { ms: 1_000_000 };
  /** This page's release: version 1, folding, unless a test changes it. */
  const ownRelease: { value: PeerRelease } = { value: { version: 1, outdated: null } };
  const model = createDemoModel({ node: () => node, store: () => store, partition, selfName: 'Ana', release: () => ownRelease.value, now: () => clock.ms, ...(nameStorage === undefined ? {} : { rememberedNames: createRememberedNames(nameStorage, 'board') }) });
  /** A status frame, as the partition switch reports it: a frame heard, then the status in it. */
  const gossip = (from: NodeId, name: string, appliedIndex: number): void => {
    frames.emit(from);
    statuses.emit({ from, status: { role: 'follower', term: 3, commitIndex: appliedIndex, appliedIndex, leader: self, visible: true, name } });
  };
  /** A Raft frame (a heartbeat, an answer to one) let through by the switch. */
  const raftFrame = (from: NodeId): void => frames.emit(from);
  /** A status frame from a page that says which release it runs (or, `undefined`, one from before releases were gossiped). */
  const gossipRelease = (from: NodeId, name: string, release: PeerRelease | undefined): void => {
    frames.emit(from);
    statuses.emit({ from, status: { role: 'follower', term: 3, commitIndex: 40, appliedIndex: 40, leader: self, visible: true, name, ...(release === undefined ? {} : { release }) } });
  };
  return { model, gossip, gossipRelease, raftFrame, peers, clock, ownRelease };
}

/** Each member's connection cell, as `name: connection[ silentForMs]`. */
const connections = (model: ReturnType<typeof world>['model']): string[] =>
  model.cluster().map((row) => `${row.name || row.id}: ${row.connection}${row.silentForMs === null ? '' : ` ${row.silentForMs}`}`);

describe('the demo model', () => {
  it('on the leader, shows each follower’s lag from its match index, not from gossip that is up to half a second old', () => {
    const { model, gossip } = world('leader');
    // Stale gossip: both followers said 30 the last time they spoke.
    gossip(bo, 'Bo', 30);
    gossip(cy, 'Cy', 30);
    const lags = Object.fromEntries(model.cluster().map((row) => [row.name, row.lag]));
    expect(lags).toEqual({ Ana: 0, Bo: 0, Cy: 15 });
  });

  it('on a follower, reads the lag from the gossip it has', () => {
    const { model, gossip } = world('follower');
    gossip(bo, 'Bo', 44);
    gossip(cy, 'Cy', 41);
    const lags = Object.fromEntries(model.cluster().map((row) => [row.name, row.lag]));
    expect(lags).toEqual({ Ana: 4, Bo: 0, Cy: 3 });
  });

  it('words timeline entries when they are read, so names that arrive later are used', () => {
    const { model, gossip } = world('leader');
    model.note('membership', (nameOf) => `${nameOf(cy)} joins`);
    model.note('info', 'plain text');
    expect(model.timeline().map((entry) => entry.text)).toEqual(['peer-cy joins', 'plain text']);
    gossip(cy, 'Cy', 40);
    expect(model.timeline().map((entry) => entry.text)).toEqual(['Cy joins', 'plain text']);
  });

  it('keeps an error worded at once among the errors', () => {
    const { model } = world('leader');
    model.note('error', (nameOf) => `${nameOf(bo)} refused`);
    expect(model.errors).toEqual(['peer-bo refused']);
  });

  it('shows a connected member it has heard nothing from for the threshold as silent, and connected again once frames resume', () => {
    const { model, gossip, raftFrame, clock } = world('follower');
    gossip(bo, 'Bo', 40);
    gossip(cy, 'Cy', 40);
    // Bo leads: its heartbeats come every 50 ms. Cy, a follower, speaks to this page only by its
    // gossip, here once a second as from a hidden tab: never silent, at any moment.
    const seen = new Set<string>();
    for (let elapsed = 50; elapsed <= 10_000; elapsed += 50) {
      clock.ms += 50;
      raftFrame(bo);
      if (elapsed % 1_000 === 0) gossip(cy, 'Cy', 40);
      seen.add(connections(model).join(', '));
    }
    expect([...seen]).toEqual(['Ana: this page, Bo: connected, Cy: connected']);

    // Cy's last status, then it pressed "Disconnect this peer": its connection stays open, but
    // nothing more comes from it.
    gossip(cy, 'Cy', 40);
    clock.ms += silentAfterMs - 1;
    raftFrame(bo);
    expect(connections(model)).toContain('Cy: connected');
    clock.ms += 1;
    expect(connections(model)).toEqual(['Ana: this page', 'Bo: connected', `Cy: silent ${silentAfterMs}`]);
    clock.ms += 4_000;
    raftFrame(bo);
    expect(connections(model)).toEqual(['Ana: this page', 'Bo: connected', `Cy: silent ${silentAfterMs + 4_000}`]);

    // Cy reconnected: its first status frame is enough.
    gossip(cy, 'Cy', 40);
    expect(connections(model)).toContain('Cy: connected');
  });

  it('counts any frame, not only status gossip, as hearing from a member', () => {
    const { model, gossip, raftFrame, clock } = world('leader');
    gossip(bo, 'Bo', 40);
    gossip(cy, 'Cy', 40);
    clock.ms += silentAfterMs + 500;
    raftFrame(bo);
    expect(connections(model)).toEqual(['Ana: this page', 'Bo: connected', `Cy: silent ${silentAfterMs + 500}`]);
  });

  it('never shows this page as silent, however long nothing arrives', () => {
    const { model, clock } = world('leader');
    clock.ms += 10 * 60_000;
    const own = model.cluster().find((row) => row.self);
    expect(own).toMatchObject({ connection: 'this page', silentForMs: null });
  });

  it('shows a member whose connection closed as unreachable, not silent, and counts afresh when it comes back', () => {
    const { model, gossip, peers, clock } = world('leader');
    gossip(bo, 'Bo', 40);
    gossip(cy, 'Cy', 40);
    // Cy closed its page: the transport drops it; it is still a voter, so it keeps its row.
    peers.set(new Set([bo]));
    clock.ms += 20_000;
    gossip(bo, 'Bo', 40);
    expect(connections(model)).toEqual(['Ana: this page', 'Bo: connected', 'Cy: unreachable']);
    // Reopened: a fresh connection, not a twenty-second silence.
    peers.set(new Set([bo, cy]));
    expect(connections(model)).toContain('Cy: connected');
  });

  it('forgets what an unreachable member said of itself at once: its role, term and indexes turn unknown', () => {
    const { model, gossip, peers } = world('follower');
    gossip(bo, 'Bo', 40);
    gossip(cy, 'Cy', 38);
    const row = (name: string) => model.cluster().find((member) => member.name === name);
    expect([row('Cy')?.role, row('Cy')?.appliedIndex]).toEqual(['follower', 38]);
    peers.set(new Set([bo])); // Cy's page closed a moment ago: its gossip is still fresh
    expect([row('Cy')?.role, row('Cy')?.term, row('Cy')?.appliedIndex, row('Cy')?.lag]).toEqual(['unknown', null, null, null]);
    expect(row('Bo')?.role).toBe('follower');
  });

  it('drops a page outside the configuration once its connection closes, rather than calling it silent', () => {
    const { model, gossip, peers, clock } = world('leader');
    const dee = nodeId('peer-dee');
    peers.set(new Set([bo, cy, dee]));
    gossip(bo, 'Bo', 40);
    gossip(cy, 'Cy', 40);
    gossip(dee, 'Dee', 40);
    expect(connections(model)).toContain('Dee: connected');
    peers.set(new Set([bo, cy]));
    clock.ms += silentAfterMs;
    expect(connections(model).some((cell) => cell.startsWith('Dee'))).toBe(false);
  });

  it('while this page is cut off, shows every other member unreachable rather than silent', () => {
    const { model, gossip, peers, clock } = world('follower');
    gossip(bo, 'Bo', 40);
    gossip(cy, 'Cy', 40);
    peers.set(new Set());
    clock.ms += 30_000;
    expect(connections(model)).toEqual(['Ana: this page', 'Bo: unreachable', 'Cy: unreachable']);
  });

  it('notes on the timeline, once, a member going silent and being heard again, by the name its gossip gave', () => {
    const { model, gossip, raftFrame, clock } = world('follower');
    gossip(bo, 'Bo', 40);
    gossip(cy, 'Cy', 40);
    const connectionNotes = (): string[] => model.timeline().filter((entry) => entry.kind === 'connection').map((entry) => `${entry.at - 1_000_000} ${entry.text}`);
    // Cy pressed "Disconnect this peer"; Bo leads and the panel is redrawn every second.
    for (let elapsed = 50; elapsed <= 12_000; elapsed += 50) {
      clock.ms += 50;
      raftFrame(bo);
      if (elapsed % 1_000 === 0) model.cluster();
    }
    gossip(cy, 'Cy', 40);
    expect(connectionNotes()).toEqual([`${silentAfterMs} Cy went silent: nothing received from it for 3 s, though its connection is open`, '12000 Cy is heard again, after 12 s of silence']);
  });

  it('while this page is cut off, notes no member going silent, and none heard again once it reconnects', () => {
    const { model, gossip, peers, clock } = world('follower');
    gossip(bo, 'Bo', 40);
    gossip(cy, 'Cy', 40);
    peers.set(new Set());
    for (let second = 0; second < 30; second += 1) {
      clock.ms += 1_000;
      model.cluster();
    }
    peers.set(new Set([bo, cy]));
    gossip(bo, 'Bo', 40);
    gossip(cy, 'Cy', 40);
    expect(model.timeline().filter((entry) => entry.kind === 'connection')).toEqual([]);
  });

  it('after a reload with the other members gone, names them as their gossip did before the reload', () => {
    const items = new Map<string, string>();
    const profile: NameStorage = { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
    const before = world('follower', profile);
    before.gossip(bo, 'Bo', 40);
    before.gossip(cy, 'Cy', 40);
    // Reloaded: nobody is reachable, so no gossip arrives; Bo's page closing is on the timeline.
    const after = world('follower', profile);
    after.peers.set(new Set());
    after.model.note('connection', (nameOf) => `${nameOf(bo)} is unreachable`);
    expect(connections(after.model)).toEqual(['Ana: this page', 'Bo: unreachable', 'Cy: unreachable']);
    expect(after.model.timeline().map((entry) => entry.text)).toEqual(['Bo is unreachable']);
    // Without the remembered names, the same page shows ids.
    const forgetful = world('follower');
    forgetful.peers.set(new Set());
    expect(connections(forgetful.model)).toEqual(['Ana: this page', 'peer-bo: unreachable', 'peer-cy: unreachable']);
  });

  it('shows on each row the release its page runs, marks a member whose store stopped, and shows it unknown for a page that does not say', () => {
    const { model, gossipRelease, ownRelease } = world('follower');
    gossipRelease(bo, 'Bo', { version: 1, outdated: { seenVersion: 2, index: 14 } });
    gossipRelease(cy, 'Cy', undefined); // a page from before releases were gossiped
    ownRelease.value = { version: 2, outdated: null };
    const releases = Object.fromEntries(model.cluster().map((row) => [row.name, row.release]));
    expect(releases).toEqual({ Ana: { version: 2, outdated: null }, Bo: { version: 1, outdated: { seenVersion: 2, index: 14 } }, Cy: null });
    // Bo reloads as the newer release: the same id, folding again.
    gossipRelease(bo, 'Bo', { version: 2, outdated: null });
    expect(model.cluster().find((row) => row.name === 'Bo')?.release).toEqual({ version: 2, outdated: null });
  });

  it('shows this page’s own store stopped on its own row', () => {
    const { model, ownRelease } = world('follower');
    ownRelease.value = { version: 1, outdated: { seenVersion: 2, index: 9 } };
    expect(model.cluster().find((row) => row.self)?.release).toEqual({ version: 1, outdated: { seenVersion: 2, index: 9 } });
  });

  it('notes on the timeline, once per stop, a member whose older release stopped, and again only after a reload that stops again', () => {
    const { model, gossipRelease, ownRelease } = world('follower');
    ownRelease.value = { version: 2, outdated: null };
    const outdatedNotes = (): string[] => model.timeline().map((entry) => entry.text).filter((text) => text.includes('older version of the board'));
    const stopped = { version: 1, outdated: { seenVersion: 2, index: 14 } };
    for (let k = 0; k < 5; k += 1) gossipRelease(bo, 'Bo', stopped);
    expect(outdatedNotes()).toEqual(['Bo runs an older version of the board (version 1): entry 14 was written by version 2, so its board stopped there and it cannot change the board until it is reloaded; its node still votes and acknowledges']);
    // Reloaded on the old release again: it folds from the start, then stops once more.
    gossipRelease(bo, 'Bo', { version: 1, outdated: null });
    gossipRelease(bo, 'Bo', stopped);
    gossipRelease(bo, 'Bo', stopped);
    expect(outdatedNotes()).toHaveLength(2);
    // Gossip without a release (unknown) forgets nothing.
    gossipRelease(bo, 'Bo', undefined);
    gossipRelease(bo, 'Bo', stopped);
    expect(outdatedNotes()).toHaveLength(2);
  });

  it('notes no member’s stop on a page that does not fold what stopped it: an older page says so of itself', () => {
    const { model, gossipRelease } = world('follower'); // this page runs version 1
    gossipRelease(bo, 'Bo', { version: 1, outdated: { seenVersion: 2, index: 14 } });
    expect(model.timeline().filter((entry) => entry.text.includes('older version of the board'))).toEqual([]);
  });
});
