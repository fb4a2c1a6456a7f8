// SPEC "Observability" and API.md "Metrics and trace", black-box: the names exactly as SPEC spells
// them (checked by the compiler against the exported unions), the fields each carries at run time,
// and the clock reading being the injected clock's.
import { describe, expect, it } from 'vitest';
import { nodeId, type RaftMetric, type RaftTraceEvent } from '../index.ts';
import { startContractCluster } from './contract-cluster.test-support.ts';

const bytes = (value: number): Uint8Array => new Uint8Array([value]);

// Every name SPEC lists must be a member of the exported union: a rename breaks tsc here.
const specMetricNames = [
  'proposeAccepted',
  'proposeCommitted',
  'proposeApplied',
  'electionStarted',
  'electionWon',
  'electionTimedOut',
  'electionSuppressedTermCeiling',
  'snapshotRejectedSizeCeiling',
  'wedgeSuspected',
] as const satisfies ReadonlyArray<RaftMetric['type']>;

const specTraceNames = [
  'timeout',
  'requestVote',
  'voteGranted',
  'voteDenied',
  'preVoteStarted',
  'preVoteGranted',
  'preVoteDenied',
  'becomeLeader',
  'becomeFollower',
  'clientRequest',
  'appendEntries',
  'appendEntriesAccepted',
  'appendEntriesRejected',
  'advanceCommitIndex',
  'configChange',
  'installSnapshot',
  'installSnapshotAccepted',
  'compacted',
  'readIndexConfirmed',
  'leadershipTransferStarted',
  'leadershipTransferAbandoned',
  'frameRefused',
  'frameUndecodable',
] as const satisfies ReadonlyArray<RaftTraceEvent['type']>;

// And API.md's two examples, field for field.
const apiExamples: RaftMetric[] = [
  { type: 'electionWon', term: 1, elapsedMs: 1 },
  { type: 'frameRefused', from: nodeId('a'), reason: 'termJump' },
];

describe('SPEC Observability: names', () => {
  it('the metric and trace vocabularies SPEC lists are members of the exported unions', () => {
    expect(new Set(specMetricNames).size).toBe(9);
    expect(new Set(specTraceNames).size).toBe(23);
    expect(apiExamples.map((metric) => metric.type)).toEqual(['electionWon', 'frameRefused']);
  });
});

describe('SPEC Observability: fields at run time', () => {
  it('proposeAccepted, proposeCommitted and proposeApplied name the entry\u2019s index; committed and applied carry elapsed ms, in that order', async () => {
    const cluster = await startContractCluster({ seed: 51 });
    const leader = await cluster.waitForLeader();
    const applied = leader.committed()[Symbol.asyncIterator]();
    const entry = await cluster.settle(leader.propose(bytes(1)));
    await cluster.settle(applied.next());
    await cluster.clock.advance(10);
    const mine = cluster.metrics.filter((metric) => metric.reporter === leader.id && 'index' in metric && metric.index === entry.index);
    expect(mine.map((metric) => metric.type).filter((type) => type.startsWith('propose'))).toEqual(['proposeAccepted', 'proposeCommitted', 'proposeApplied']);
    for (const metric of mine) {
      if (metric.type === 'proposeCommitted' || metric.type === 'proposeApplied') {
        expect(Number.isFinite(metric.elapsedMs) && metric.elapsedMs >= 0, metric.type).toBe(true);
      }
    }
    expect(cluster.trace).toContainEqual(expect.objectContaining({ type: 'clientRequest', node: leader.id, index: entry.index, term: entry.term }));
    await cluster.close();
  });

  it('electionStarted and electionWon name the term the node campaigned in and won', async () => {
    const cluster = await startContractCluster({ seed: 52 });
    const leader = await cluster.waitForLeader();
    const started = cluster.metrics.filter((metric) => metric.type === 'electionStarted' && metric.reporter === leader.id);
    const won = cluster.metrics.filter((metric) => metric.type === 'electionWon' && metric.reporter === leader.id);
    expect(started.at(-1)).toEqual({ type: 'electionStarted', term: leader.term.value, reporter: leader.id });
    expect(won.at(-1)).toEqual({ type: 'electionWon', term: leader.term.value, elapsedMs: expect.any(Number), reporter: leader.id });
    await cluster.close();
  });

  it('appendEntriesRejected names the peer and a conflict index: a new leader probing a follower that missed entries', async () => {
    const cluster = await startContractCluster({ seed: 53 });
    const old = await cluster.waitForLeader();
    const [behind, next] = [...cluster.nodes.keys()].filter((name) => name !== old.id) as [string, string];
    cluster.network.isolate(nodeId(behind));
    for (let value = 0; value < 3; value += 1) await cluster.settle(old.propose(bytes(value)));
    const behindLast = (await cluster.storage(behind).entries()).at(-1)!.index;
    cluster.network.heal();
    cluster.network.isolate(old.id);
    await cluster.clock.runUntil(() => cluster.node(next).role.value === 'leader', 5_000);
    await cluster.clock.runUntil(() => cluster.node(behind).commitIndex.value === cluster.node(next).commitIndex.value, 5_000);
    const rejected = cluster.trace.filter((event) => event.type === 'appendEntriesRejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const event of rejected) {
      expect(Object.keys(event).sort()).toEqual(['at', 'conflictIndex', 'from', 'node', 'term', 'type']);
    }
    // The leader hears the follower's hint: its log is short, so its last index + 1.
    expect(rejected).toContainEqual(expect.objectContaining({ node: next, from: behind, conflictIndex: behindLast + 1, term: cluster.node(next).term.value }));
    await cluster.close();
  });

  it('every trace event carries the node, its term at the time and the injected clock\u2019s reading, in order', async () => {
    const cluster = await startContractCluster({ seed: 54, names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'] });
    const terms = new Map<string, number>();
    for (const node of cluster.nodes.values()) node.term.subscribe((term) => terms.set(node.id, term));
    const checked: string[] = [];
    const wrong: unknown[] = [];
    for (const node of cluster.nodes.values()) {
      node.trace.subscribe((event) => {
        checked.push(event.type);
        // Emitted as it happens, stamped with this node, the clock's reading now, and a term never
        // behind the one the node has already published.
        if (event.node !== node.id || event.at !== cluster.clock.now() || event.term < (terms.get(node.id) ?? 0)) wrong.push({ ...event, now: cluster.clock.now(), published: terms.get(node.id) });
      });
    }
    const leader = await cluster.waitForLeader();
    await cluster.settle(leader.propose(bytes(1)));
    await cluster.settle(cluster.node('l').propose(bytes(2)));
    await cluster.settle(leader.readIndex());
    await cluster.settle(leader.changeMembership({ voters: ['a', 'b', 'c', 'l'].map((name) => nodeId(name)) }));
    await cluster.clock.advance(200);
    expect(checked.length).toBeGreaterThan(20);
    expect(wrong).toEqual([]);
    await cluster.close();
  });
});
