import { describe, it, expect } from 'vitest';
import { nodeId, clientId, ClientSessionTable, type LogEntry } from '../../index.ts';
import { createSimulatedCluster } from '../../testing/index.ts';
import { enc, dec } from './harness.test-support.ts';

describe('SPEC Exactly-once across crashes (durable identity + replayed requestIds)', () => {
  for (let seed = 1; seed <= 12; seed++) {
    it(`seed ${seed}: replay after crash resolves every request with its own command; table applies each once`, async () => {
      const app = clientId('app');
      const cluster = createSimulatedCluster({ seed, ids: ['a', 'b', 'c'], identities: new Map([[nodeId('b'), app]]), network: { minDelayMs: 1, maxDelayMs: 8, dropProbability: 0.05, duplicateProbability: 0.05 } });
      await cluster.start();
      await cluster.waitForLeader(5000);
      const b = nodeId('b');
      const cmds = [1, 2, 3, 4, 5].map((k) => `cmd-${seed}-${k}`);
      const first = cmds.map((c, k) => cluster.nodes.get(b)!.node!.propose(enc(c), { requestId: 100 + k }).catch((e) => e));
      await cluster.runFor(2 + (seed % 7) * 3);
      cluster.crash(b);
      await cluster.runFor(50);
      await cluster.restart(b);
      const node = cluster.nodes.get(b)!.node!;
      const replays = cmds.map((c, k) => node.propose(enc(c), { requestId: 100 + k }));
      const settled = await cluster.settle(Promise.allSettled(replays), 20000);
      expect(settled).toBeDefined();
      for (let k = 0; k < cmds.length; k++) {
        const r = settled![k]!;
        expect(r.status, `request ${k}`).toBe('fulfilled');
        const e = (r as PromiseFulfilledResult<LogEntry>).value;
        expect(dec(e.command)).toBe(cmds[k]);
        expect(e.dedupKey).toEqual({ clientId: app, requestId: 100 + k });
      }
      await cluster.runFor(500);
      const leader = cluster.leader()!;
      const log = await leader.durable.entries(1);
      const table = new ClientSessionTable();
      const applied = log.filter((e) => !e.isNoOp && !e.config && table.shouldApply(e.dedupKey)).map((e) => dec(e.command));
      for (const c of cmds) expect(applied.filter((x) => x === c).length, c).toBe(1);
      // each replay resolved at the entry that took effect (the first copy in the log)
      for (let k = 0; k < cmds.length; k++) {
        const e = (settled![k] as PromiseFulfilledResult<LogEntry>).value;
        const firstCopy = log.find((x) => x.dedupKey?.clientId === app && x.dedupKey.requestId === 100 + k)!;
        expect(e.index, `request ${k}`).toBe(firstCopy.index);
      }
      await Promise.all(first);
      await cluster.close();
    });
  }
});
