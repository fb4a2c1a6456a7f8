// SPEC "Reads": "A round answered from an older round or term is discarded, not counted."
// Black-box: voters a, b, c and d, where d runs no node but answers the leader's AppendEntries
// itself through its RaftTransport (bytes built with the project's codec, as an outside test
// would write them by hand). One real follower is cut off, so every read round needs d's answer,
// and d chooses which round and term its answers echo.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import { nodeId, type RaftNode } from '../index.ts';
import { startContractCluster, track } from './contract-cluster.test-support.ts';

type Echo = 'honest' | 'earlierRound' | 'earlierTerm';

async function clusterWhereReadsNeedD(seed: number): Promise<{ cluster: Awaited<ReturnType<typeof startContractCluster>>; leader: RaftNode; setEcho(echo: Echo): void; roundsSeen: number[] }> {
  const cluster = await startContractCluster({ seed, names: ['a', 'b', 'c'], voters: ['a', 'b', 'c', 'd'] });
  const d = cluster.network.transport(nodeId('d'));
  let echo: Echo = 'honest';
  const roundsSeen: number[] = [];
  d.incoming.subscribe((envelope) => {
    const decoded = decodeMessage(envelope.bytes);
    if (!decoded.ok || decoded.value.type !== 'appendEntries') return;
    const message = decoded.value;
    if (message.readRound > 0 && !roundsSeen.includes(message.readRound)) roundsSeen.push(message.readRound);
    const earlier = roundsSeen.filter((round) => round < message.readRound).at(-1) ?? 0;
    const readRound = echo === 'earlierRound' ? earlier : message.readRound;
    const term = echo === 'earlierTerm' ? message.term - 1 : message.term;
    d.send(envelope.from, encodeMessage({ type: 'appendEntriesResponse', term, success: true, matchIndex: message.prevLogIndex + message.entries.length, conflictIndex: 0, conflictTerm: 0, readRound }));
  });
  const leader = await cluster.waitForLeader();
  // Move to a later term first, so that an answer one term back still names a real term.
  const other = [...cluster.nodes.values()].find((node) => node !== leader)!;
  await cluster.settle(leader.transferLeadership(other.id));
  const current = cluster.leader()!;
  await cluster.settle(current.propose(new Uint8Array([1])));
  const cut = [...cluster.nodes.values()].find((node) => node !== current && node.role.value !== 'leader' && node.id !== other.id)!;
  cluster.network.isolate(cut.id);
  return { cluster, leader: current, setEcho: (next) => (echo = next), roundsSeen };
}

describe('SPEC Reads: answers from an older round or term', () => {
  it('an acknowledgement echoing a round begun before the read does not confirm it', async () => {
    const { cluster, leader, setEcho, roundsSeen } = await clusterWhereReadsNeedD(301);
    // A first read, confirmed with d's honest answers: d has seen a round.
    await expect(cluster.settle(leader.readIndex())).resolves.toBe(leader.commitIndex.value);
    expect(roundsSeen.length).toBeGreaterThan(0);
    setEcho('earlierRound');
    const read = track(leader.readIndex());
    await cluster.clock.advance(250);
    expect(read.outcome).toBe('pending');
    expect(leader.role.value).toBe('leader'); // d's answers still count for CheckQuorum
    setEcho('honest');
    await cluster.clock.runUntil(() => read.outcome !== 'pending', 1_000);
    expect(read.outcome).toEqual({ value: leader.commitIndex.value });
    await cluster.close();
  });

  it('an acknowledgement of the current round carrying an older term does not confirm it', async () => {
    const { cluster, leader, setEcho } = await clusterWhereReadsNeedD(302);
    expect(leader.term.value).toBeGreaterThanOrEqual(2);
    setEcho('earlierTerm');
    const read = track(leader.readIndex());
    await cluster.clock.advance(150);
    expect(read.outcome).toBe('pending');
    setEcho('honest');
    await cluster.clock.runUntil(() => read.outcome !== 'pending', 1_000);
    expect(read.outcome).toEqual({ value: leader.commitIndex.value });
    expect(leader.role.value).toBe('leader');
    await cluster.close();
  });
});
