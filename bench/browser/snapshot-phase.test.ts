// The snapshot phase against a scripted three-page cluster (no browser): each page's
// `window.browserBench` is a fake whose status, loads, snapshots and frame watches follow one
// shared state, and the test moves leadership at chosen moments. The phase used to give the roles
// once: after a move it published "the leader's" snapshot on a follower and timed that follower's
// forwards as a leader's silence, and said nothing.
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeStatus } from '../pages/browser-node.ts';
import type { BenchProcess } from './cluster.ts';
import { benchSizes } from './options.ts';
import { measureHeartbeatsDuringSnapshot } from './snapshot-phase.ts';

type Moment = 'snapshotPublished' | 'laggingRestarted' | 'trialEnded';

class ScriptedFailure extends Error {}

interface Script {
  /** Called at each moment with the trial's count of such moments so far (from 1). */
  readonly at?: (moment: Moment, count: number, cluster: FakeCluster) => void;
}

interface FakeCluster {
  leader: string;
  term: number;
  commitIndex: number;
  readonly running: Map<string, boolean>;
  readonly floors: Map<string, number>;
  readonly installs: Map<string, number>;
  /** Each page's count of fresh engine channel pairs: 2 for each of its own restarts, 1 for each peer's. */
  readonly channelPairs: Map<string, number>;
  /** Which process each snapshot was published on, in order. */
  readonly publishedOn: string[];
  /** Which process each frame watch was aimed at (the sender watched), in order. */
  readonly watchedSenders: string[];
  moveLeadership(to: string): void;
}

const ids = ['node-a', 'node-b', 'node-c'];

function fakeCluster(script: Script): { processes: BenchProcess[]; cluster: FakeCluster } {
  const counts = new Map<Moment, number>();
  const moment = (name: Moment): void => {
    const count = (counts.get(name) ?? 0) + 1;
    counts.set(name, count);
    script.at?.(name, count, cluster);
  };
  const cluster: FakeCluster = {
    leader: 'node-a',
    term: 2,
    commitIndex: 10,
    running: new Map(ids.map((id) => [id, true])),
    floors: new Map(ids.map((id) => [id, 0])),
    installs: new Map(ids.map((id) => [id, 0])),
    channelPairs: new Map(ids.map((id) => [id, 0])),
    publishedOn: [],
    watchedSenders: [],
    moveLeadership(to) {
      cluster.leader = to;
      cluster.term += 1;
    },
  };
  const stopWaiting: Array<() => void> = [];
  const processes = ids.map((id) => {
    let watching = false;
    const api = {
      status(): NodeStatus {
        if (cluster.running.get(id) !== true) throw new Error('node not started');
        return { role: cluster.leader === id ? 'leader' : 'follower', leader: cluster.leader, term: cluster.term, commitIndex: cluster.commitIndex, compactionFloor: cluster.floors.get(id) ?? 0, appliedIndex: cluster.commitIndex, peers: 2, installs: cluster.installs.get(id) ?? 0 };
      },
      stopNode: async (): Promise<void> => {
        cluster.running.set(id, false);
      },
      transportCounters: (): Record<string, number> => ({ engineChannelsReopened: cluster.channelPairs.get(id) ?? 0 }),
      load: async (options: { untilCommitIndex: number; pauseMs: number }) => {
        if (options.untilCommitIndex !== Number.MAX_SAFE_INTEGER) cluster.commitIndex = Math.max(cluster.commitIndex, options.untilCommitIndex);
        else await new Promise<void>((resolve) => stopWaiting.push(resolve));
        return { commits: 1, errors: 0, elapsedMs: 1, p50Ms: 1, p99Ms: 2, buckets: [], firstError: null };
      },
      stopLoads: (): void => {
        for (const resolve of stopWaiting.splice(0)) resolve();
      },
      snapshotNow: (): number => {
        cluster.floors.set(id, cluster.commitIndex);
        cluster.publishedOn.push(id);
        moment('snapshotPublished');
        return cluster.commitIndex;
      },
      // Called as each trial ends, after its leadership check: a move here is between trials.
      setSnapshotBytes: (): void => moment('trialEnded'),
      watchFrames: async (sender: string | null): Promise<number[]> => {
        if (sender !== null) {
          watching = true;
          cluster.watchedSenders.push(sender);
          return [];
        }
        if (!watching) return [];
        watching = false;
        return [0, 5, 10, 15, 20];
      },
    };
    const page = {
      evaluate: async (run: (argument?: unknown) => unknown, argument?: unknown): Promise<unknown> => {
        (globalThis as { window?: unknown }).window = { browserBench: api };
        return run(argument);
      },
    };
    const benchProcess = {
      id,
      page,
      startNode: async () => {
        cluster.running.set(id, true);
        moment('laggingRestarted');
        for (const other of ids) cluster.channelPairs.set(other, (cluster.channelPairs.get(other) ?? 0) + (other === id ? 2 : 1));
        // It catches up from whoever leads now: by the snapshot if that node compacted past it, else on entries.
        const leaderFloor = cluster.floors.get(cluster.leader) ?? 0;
        if (leaderFloor > (cluster.floors.get(id) ?? 0)) {
          cluster.floors.set(id, leaderFloor);
          cluster.installs.set(id, (cluster.installs.get(id) ?? 0) + 1);
        }
      },
    };
    return benchProcess as unknown as BenchProcess;
  });
  return { processes, cluster };
}

const sizes = { ...benchSizes(['--tiny']), snapshotTrials: 3, heartbeatBaselineMs: 5 };

afterEach(() => {
  delete (globalThis as { window?: unknown }).window;
});

describe('measureHeartbeatsDuringSnapshot', () => {
  it('with one leader throughout: every snapshot on it, its frames watched, nothing begun again', async () => {
    const { processes, cluster } = fakeCluster({});
    const figures = await measureHeartbeatsDuringSnapshot(processes, sizes);
    expect(figures.duringSnapshot.trials).toBe(3);
    expect(cluster.publishedOn).toEqual(['node-a', 'node-a', 'node-a']);
    expect(new Set(cluster.watchedSenders)).toEqual(new Set(['node-a']));
    expect(figures.electionsDuringTransfers).toBe(0);
    expect(figures.trialsBegunAgain).toBe(0);
    expect(figures.transfersWithoutInstall).toBe(0);
    expect(figures.electionsBetweenTrials).toBe(0);
    expect(figures.laggingEngineChannelsReopened).toBe(6);
  });

  it('leadership moved between two trials: counted there, nothing begun again, the next trials on the new leader', async () => {
    const { processes, cluster } = fakeCluster({
      at: (moment, count, state) => {
        if (moment === 'trialEnded' && count === 1) state.moveLeadership('node-b');
      },
    });
    const figures = await measureHeartbeatsDuringSnapshot(processes, sizes);
    expect(figures.electionsBetweenTrials).toBe(1);
    expect(figures.electionsDuringTransfers).toBe(0);
    expect(figures.trialsBegunAgain).toBe(0);
    expect(figures.duringSnapshot.trials).toBe(3);
    expect(cluster.publishedOn).toEqual(['node-a', 'node-b', 'node-b']);
  });

  it('leadership moved before a transfer: that trial begins again on the new leader, which publishes and is watched', async () => {
    const { processes, cluster } = fakeCluster({
      at: (moment, count, state) => {
        if (moment === 'snapshotPublished' && count === 2) state.moveLeadership('node-c');
      },
    });
    const figures = await measureHeartbeatsDuringSnapshot(processes, sizes);
    expect(figures.duringSnapshot.trials).toBe(3);
    expect(figures.trialsBegunAgain).toBe(1);
    expect(figures.electionsBetweenTrials).toBe(0);
    expect(figures.electionsDuringTransfers).toBe(0);
    expect(figures.transfersWithoutInstall).toBe(0);
    // The lagging page's own two pairs per measured transfer, not the begun-again restart nor
    // the pairs other pages' restarts added to its count.
    expect(figures.laggingEngineChannelsReopened).toBe(6);
    // The second snapshot was node-a's, no longer the leader's: not a transfer. The rest are node-c's.
    expect(cluster.publishedOn).toEqual(['node-a', 'node-a', 'node-c', 'node-c']);
    expect(cluster.watchedSenders).toEqual(['node-a', 'node-a', 'node-c', 'node-c']);
  });

  it('leadership moved during a transfer: counted as an election there, its gaps kept, the next trials on the new leader', async () => {
    const { processes, cluster } = fakeCluster({
      at: (moment, count, state) => {
        if (moment === 'laggingRestarted' && count === 1) state.moveLeadership('node-b');
      },
    });
    const figures = await measureHeartbeatsDuringSnapshot(processes, sizes);
    expect(figures.electionsDuringTransfers).toBe(1);
    expect(figures.electionsBetweenTrials).toBe(0);
    expect(figures.trialsBegunAgain).toBe(0);
    // node-b, leading now, still held the entries: the lagging node caught up on them.
    expect(figures.transfersWithoutInstall).toBe(1);
    expect(figures.duringSnapshot.trials).toBe(3);
    expect(figures.duringSnapshot.frames).toBe(15);
    expect(cluster.publishedOn).toEqual(['node-a', 'node-b', 'node-b']);
  });

  it('a trial that fails between the lagging node stopping and its restart still restarts it, and the failure is the one reported', async () => {
    const { processes, cluster } = fakeCluster({
      at: (moment, count) => {
        if (moment === 'snapshotPublished' && count === 2) throw new ScriptedFailure('the page went away');
      },
    });
    await expect(measureHeartbeatsDuringSnapshot(processes, sizes)).rejects.toThrow(ScriptedFailure);
    expect([...cluster.running.values()]).toEqual([true, true, true]);
  });

  it('a cluster whose leadership keeps moving fails the phase instead of looping', async () => {
    const { processes, cluster } = fakeCluster({
      at: (moment, _count, state) => {
        if (moment === 'snapshotPublished') state.moveLeadership(ids[(ids.indexOf(state.leader) + 1) % ids.length] ?? 'node-a');
      },
    });
    await expect(measureHeartbeatsDuringSnapshot(processes, sizes)).rejects.toThrow(/leadership moved too often/);
    expect([...cluster.running.values()]).toEqual([true, true, true]);
  });
});
