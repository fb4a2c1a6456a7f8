// The report's replay command names every switch the run had, so a failure replays the same
// campaign: the edge peer, as witness or not, on the pages' timing or the engine's defaults. The
// longest stall is measured between acknowledgements under load only, and the report names who
// the voters were around it, as the tabs live at the end recorded it.
import { describe, expect, it } from 'vitest';
import type { DispatchRecord, FinalMember } from './history.ts';
import { longestStallWithoutAcknowledgement, replayCommand, votersAroundStretch } from './report.ts';

describe('the room chaos replay command', () => {
  const run = { seed: 61, seconds: 150, tabs: null };

  it('replays a run without the edge peer, with it, and with its default timeouts', () => {
    expect(replayCommand({ ...run, edgePeerTimeouts: null, edgePeerWitness: false })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150');
    expect(replayCommand({ ...run, edgePeerTimeouts: 'pages', edgePeerWitness: false })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer');
    expect(replayCommand({ ...run, edgePeerTimeouts: 'defaults', edgePeerWitness: false })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer --edge-default-timeouts');
  });

  it('replays a witness run as a witness run', () => {
    expect(replayCommand({ ...run, edgePeerTimeouts: 'pages', edgePeerWitness: true })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer --witness');
    expect(replayCommand({ ...run, edgePeerTimeouts: 'defaults', edgePeerWitness: true })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer --witness --edge-default-timeouts');
  });

  it('replays a room of a fixed number of tabs', () => {
    expect(replayCommand({ ...run, tabs: 2, edgePeerTimeouts: 'pages', edgePeerWitness: true })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --tabs 2 --edge-peer --witness');
    expect(replayCommand({ ...run, edgePeerTimeouts: null, edgePeerWitness: false, loseDatabaseOnKill: true })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --lose-database-on-kill');
  });
});

describe('the longest stretch without an acknowledgement', () => {
  const dispatch = (completedAtMs: number | null, outcome: DispatchRecord['outcome'], final = false): DispatchRecord => ({ kind: 'dispatch', operationId: `x${completedAtMs ?? 'n'}`, tab: 'tab-1', invokedAtMs: 0, completedAtMs, outcome, final });

  it('measures between acknowledged dispatches under load, whatever their order in the history', () => {
    const operations = [dispatch(1_000, 'ok'), dispatch(9_000, 'ok'), dispatch(2_000, 'ok'), dispatch(5_000, 'unknown'), dispatch(null, 'unknown'), dispatch(60_000, 'ok', true)];
    expect(longestStallWithoutAcknowledgement({ operations })).toEqual({ ms: 7_000, fromMs: 2_000 });
  });

  it('has nothing to say about fewer than two acknowledgements', () => {
    expect(longestStallWithoutAcknowledgement({ operations: [dispatch(1_000, 'ok'), dispatch(2_000, 'failed')] })).toBeNull();
  });
});

describe('the voters around the longest stretch', () => {
  const sighting = (atMs: number, voters: string[], learners: string[] = []) => ({ atMs, voters, learners });
  const member = (tab: string, id: string, configurations: ReturnType<typeof sighting>[]): FinalMember => ({
    tab,
    status: { id, role: 'follower', leader: null, term: 1, voters: [], learners: [], commitIndex: 0, appliedIndex: 0, connected: true, reachable: [], leadersSeen: [], length: 0, digest: 0 },
    appliedIds: [],
    events: [],
    configurations,
  });
  const nodeNames = { a: 'tab-1', w: 'edge', c: 'tab-3', b: 'tab-2' };

  it("names each final tab's newest configuration when it began by tab, groups tabs that agree, and lists what changed during it", () => {
    const final = [
      member('tab-1', 'a', [sighting(1_000, ['a']), sighting(3_000, ['a', 'b', 'w'], ['c']), sighting(12_000, ['a', 'c', 'w'])]),
      member('tab-2', 'b', [sighting(2_000, ['a', 'b', 'w'], ['c'])]),
      member('tab-3', 'c', [sighting(9_000, ['a', 'c', 'w'])]),
    ];
    // Ids are sorted on the page; the report sorts the names it gives them.
    expect(votersAroundStretch({ nodeNames, final }, { fromMs: 5_000, ms: 10_000 })).toEqual([
      '  when it began: voters edge, tab-1, tab-2; learners tab-3 (as tab-1, tab-2 saw it); no record from tab-3 (opened since)',
      '  at 9.0 s tab-3 opened with voters edge, tab-1, tab-3',
      '  at 12.0 s tab-1 adopted voters edge, tab-1, tab-3',
    ]);
  });

  it('names an id no tab or edge peer ran by the id itself, and bounds the changes it lists', () => {
    const many = Array.from({ length: 9 }, (_, index) => sighting(6_000 + index, index % 2 === 0 ? ['a', 'z'] : ['a']));
    expect(votersAroundStretch({ nodeNames, final: [member('tab-1', 'a', [sighting(0, ['a', 'z']), ...many])] }, { fromMs: 5_000, ms: 10_000 })).toEqual([
      '  when it began: voters tab-1, z (as tab-1 saw it)',
      ...many.slice(0, 6).map((seen) => `  at ${(seen.atMs / 1000).toFixed(1)} s tab-1 adopted voters ${seen.voters.length === 2 ? 'tab-1, z' : 'tab-1'}`),
      '  and 3 more configuration changes during it',
    ]);
    expect(votersAroundStretch({ nodeNames, final: [] }, { fromMs: 5_000, ms: 1_000 })).toEqual(['  when it began: no tab live at the end']);
  });
});
