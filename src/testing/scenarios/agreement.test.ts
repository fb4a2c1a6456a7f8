// Log agreement scenarios after MIT 6.5840's lab 3B: each proposal must reach every connected
// node, minorities must not commit, and a leader backs up over long divergent logs quickly.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../core/types.ts';
import { bytes, checkOneLeader, connect, disconnect, one, startCluster } from './scenario-helpers.ts';

describe('agreement (6.5840 3B)', () => {
  it('basic agree: each command is committed by every node, at consecutive indices', async () => {
    const cluster = await startCluster({ seed: 201, size: 3 });
    let previous = 0;
    for (let command = 1; command <= 3; command += 1) {
      const index = await one(cluster, `basic-${command}`, 3);
      expect(index).toBeGreaterThan(previous);
      previous = index;
    }
    await cluster.close();
  });

  it('follower failure: progress with one follower gone, none with two', async () => {
    const cluster = await startCluster({ seed: 202, size: 3 });
    const disconnected = new Set<NodeId>();
    await one(cluster, 'first', 3);
    const leader = await checkOneLeader(cluster);
    disconnect(cluster, disconnected, cluster.ids.find((id) => id !== leader)!);
    await one(cluster, 'second', 2);
    const other = cluster.ids.find((id) => id !== leader && !disconnected.has(id))!;
    disconnect(cluster, disconnected, other);
    const pending = cluster.propose(leader, bytes('never'), { timeoutMs: 2_000 });
    await cluster.runFor(2_000);
    expect(await cluster.settle(pending)).toBeNull();
    await cluster.close();
  });

  it('leader failure: a new leader commits; with the next leader gone too, nothing commits', async () => {
    const cluster = await startCluster({ seed: 203, size: 3 });
    const disconnected = new Set<NodeId>();
    await one(cluster, 'first', 3);
    disconnect(cluster, disconnected, await checkOneLeader(cluster));
    await one(cluster, 'second', 2);
    const second = await checkOneLeader(cluster, cluster.ids.filter((id) => !disconnected.has(id)));
    disconnect(cluster, disconnected, second);
    const survivor = cluster.ids.find((id) => !disconnected.has(id))!;
    const pending = cluster.propose(survivor, bytes('lost'), { timeoutMs: 2_000 });
    await cluster.runFor(2_000);
    expect(await cluster.settle(pending)).toBeNull();
    for (const simulated of cluster.nodes.values()) {
      const applied = [...simulated.appliedCommands.values()].map((command) => (command === null ? null : new TextDecoder().decode(command)));
      expect(applied).not.toContain('lost');
    }
    await cluster.close();
  });

  it('fail no agree: a minority-partitioned majority loss blocks commit; healing resumes', async () => {
    const cluster = await startCluster({ seed: 204, size: 5 });
    const disconnected = new Set<NodeId>();
    await one(cluster, 'ten', 5);
    const leader = await checkOneLeader(cluster);
    const followers = cluster.ids.filter((id) => id !== leader);
    for (const id of followers.slice(0, 3)) disconnect(cluster, disconnected, id);
    const pending = cluster.propose(leader, bytes('blocked'), { timeoutMs: 2_000 });
    await cluster.runFor(2_000);
    expect(await cluster.settle(pending)).toBeNull();
    for (const id of followers.slice(0, 3)) connect(cluster, disconnected, id);
    await one(cluster, 'thirty', 5);
    await cluster.close();
  });

  it('concurrent starts: proposals made at once all commit, each at a distinct index', async () => {
    const cluster = await startCluster({ seed: 205, size: 3 });
    const leader = await checkOneLeader(cluster);
    const pending = Array.from({ length: 5 }, (_, position) => cluster.propose(leader, bytes(`concurrent-${position}`)));
    const entries = await cluster.settle(Promise.all(pending));
    const indices = (entries ?? []).map((entry) => entry?.index);
    expect(new Set(indices).size).toBe(5);
    await cluster.close();
  });

  it('rejoin: a partitioned leader with uncommitted entries rejoins and adopts the new log', async () => {
    const cluster = await startCluster({ seed: 206, size: 3 });
    const disconnected = new Set<NodeId>();
    await one(cluster, 'one', 3);
    const oldLeader = await checkOneLeader(cluster);
    disconnect(cluster, disconnected, oldLeader);
    for (const text of ['two', 'three', 'four']) void cluster.propose(oldLeader, bytes(text), { timeoutMs: 500 });
    await one(cluster, 'agreed', 2);
    const newLeader = await checkOneLeader(cluster, cluster.ids.filter((id) => id !== oldLeader));
    disconnect(cluster, disconnected, newLeader);
    connect(cluster, disconnected, oldLeader);
    await one(cluster, 'after-rejoin', 2);
    connect(cluster, disconnected, newLeader);
    await one(cluster, 'all', 3);
    await cluster.close();
  });

  it('backup: a leader backs up quickly over 50 divergent uncommitted entries per node', async () => {
    const cluster = await startCluster({ seed: 207, size: 5 });
    await one(cluster, 'start', 5);
    const leader1 = await checkOneLeader(cluster);
    const others = cluster.ids.filter((id) => id !== leader1);
    cluster.network.partition([[leader1, others[0]!], others.slice(1)]);
    for (let count = 0; count < 50; count += 1) void cluster.propose(leader1, bytes(`lost-${count}`), { timeoutMs: 300 });
    await cluster.runFor(500);
    for (let count = 0; count < 50; count += 1) await one(cluster, `majority-${count}`, 3, { timeoutMs: 3_000 });
    const leader2 = await checkOneLeader(cluster, others.slice(1));
    const other = others.slice(1).find((id) => id !== leader2)!;
    cluster.network.partition([[leader2, others.slice(1).find((id) => id !== leader2 && id !== other)!], [other], [leader1], [others[0]!]]);
    for (let count = 0; count < 50; count += 1) void cluster.propose(leader2, bytes(`lost-again-${count}`), { timeoutMs: 300 });
    await cluster.runFor(500);
    cluster.network.partition([[leader1, others[0]!, other], [leader2], [others.slice(1).find((id) => id !== leader2 && id !== other)!]]);
    for (let count = 0; count < 50; count += 1) await one(cluster, `revived-${count}`, 3, { timeoutMs: 3_000 });
    cluster.network.heal();
    await one(cluster, 'everyone', 5);
    await cluster.close();
  });
});
