// Injecting and healing one fault of a step (schedule.ts) on a live cluster, recorded in the
// history. Every kind holds its fault for the planned time, then heals: the page reopened, the
// browser relaunched on its profile, the node restarted from its database, the page thawed, the
// partition lifted. Loss of channels and leadership transfer heal themselves (that is the point).
import { damageIndexedDbLogIfThere } from '../damaged-indexeddb.ts';
import type { ChaosCluster, ChaosProcess } from './cluster.ts';
import type { FaultRecord, History } from './history.ts';
import type { NodeStatus } from './pages/chaos-protocol.ts';
import { freezePage } from './freeze.ts';
import type { PlannedFault } from './schedule.ts';
import { elapsedMs, sleep, withTimeout } from './time.ts';

const statusTimeoutMs = 5_000;
const faultCallTimeoutMs = 15_000;

/** The node's status, or null if it is down or does not answer; notes the terms it leads. */
export async function statusOf(process: ChaosProcess): Promise<NodeStatus | null> {
  if (!process.up) return null;
  try {
    const status = await withTimeout(process.page.evaluate(() => window.chaosNode.status()), statusTimeoutMs, `status of ${process.id}`);
    if (status.role === 'leader' && !process.ledTerms.has(status.term)) process.ledTerms.set(status.term, elapsedMs());
    return status;
  } catch {
    return null;
  }
}

/** The node that leads in the highest term any node reports (and that term, from the same read), or null. */
export async function currentLeader(cluster: ChaosCluster): Promise<{ readonly process: ChaosProcess; readonly term: number } | null> {
  const statuses = await Promise.all(cluster.processes.map(async (process) => ({ process, status: await statusOf(process) })));
  let best: { process: ChaosProcess; term: number } | null = null;
  for (const { process, status } of statuses) {
    if (status?.role === 'leader' && (best === null || status.term > best.term)) best = { process, term: status.term };
  }
  return best;
}

/** The processes the step's faults land on: distinct, "the leader" resolved now. */
export async function resolveTargets(cluster: ChaosCluster, faults: readonly PlannedFault[]): Promise<(ChaosProcess | null)[]> {
  const leader = faults.some((fault) => fault.target.type === 'leader') ? ((await currentLeader(cluster))?.process ?? null) : null;
  // A node lost for good (ChaosProcess.lost) takes no more faults: the next live one does.
  const taken = new Set<ChaosProcess>(cluster.processes.filter((process) => process.lost !== null));
  return faults.map((fault) => {
    const wanted = fault.target.type === 'leader' ? (leader ?? cluster.live()[0]) : cluster.processes[fault.target.position];
    const chosen = wanted !== undefined && !taken.has(wanted) ? wanted : (cluster.processes.find((process) => !taken.has(process)) ?? null);
    if (chosen !== null) taken.add(chosen);
    return chosen;
  });
}

const evaluate = <T>(process: ChaosProcess, what: string, run: () => Promise<T>): Promise<T> => withTimeout(run(), faultCallTimeoutMs, `${what} on ${process.id}`);

/** Injects the fault, holds it, heals it; the record's detail says what happened. */
export async function injectAndHeal(cluster: ChaosCluster, history: History, step: number, fault: PlannedFault, target: ChaosProcess, databaseLoss: { armed: boolean } = { armed: false }): Promise<void> {
  const record: FaultRecord = { step, kind: fault.kind, node: target.id, startedMs: elapsedMs(), healedMs: null, detail: `held ${fault.holdMs} ms` };
  history.faults.push(record);
  const note = (text: string): void => {
    record.detail += `; ${text}`;
  };
  switch (fault.kind) {
    case 'closePage': {
      target.up = false;
      await target.page.close().catch((error: unknown) => note(`close: ${String(error)}`));
      await sleep(fault.holdMs);
      await cluster.reopenPage(target);
      break;
    }
    case 'killBrowser': {
      note(`${await cluster.killBrowser(target)} processes killed`);
      // One node at most (--lose-database-on-kill): a second loss in a cluster of three leaves no
      // majority, which no library makes good. A log too small to damage yet leaves it armed.
      if (databaseLoss.armed) {
        const damaged = damageIndexedDbLogIfThere(target.profile, cluster.baseUrl);
        if (damaged === null) databaseLoss.armed = false;
        note(damaged === null ? 'its IndexedDB log damaged' : `its IndexedDB log left alone: ${damaged}`);
      }
      await sleep(fault.holdMs);
      await cluster.relaunch(target);
      if (target.lost !== null) note(`lost for good: ${target.lost}`);
      break;
    }
    case 'terminateWorker': {
      target.up = false;
      note(`terminated: ${await evaluate(target, 'terminateWorker', () => target.page.evaluate(() => window.chaosNode.terminateWorker()))}`);
      await sleep(fault.holdMs);
      const status = await statusOf({ ...target, up: true });
      note(`node stopped with ${status?.stopped ?? 'nothing'}`);
      await cluster.restartNode(target);
      break;
    }
    case 'freeze': {
      // freeze.ts says why this is more than Page.setWebLifecycleState.
      const frozen = await freezePage(await cluster.cdp(target));
      try {
        await evaluate(target, 'freeze the main thread', () => target.page.evaluate((milliseconds) => window.chaosNode.blockMainThread(milliseconds), fault.holdMs));
        note(`${frozen.workers} workers paused`);
        await sleep(fault.holdMs);
      } finally {
        await frozen.thaw();
      }
      break;
    }
    case 'blockMainThread': {
      await evaluate(target, 'blockMainThread', () => target.page.evaluate((milliseconds) => window.chaosNode.blockMainThread(milliseconds), fault.holdMs));
      await sleep(fault.holdMs);
      break;
    }
    case 'partition': {
      const status = await statusOf(target);
      if (status !== null && !status.workerFaultInstalled) throw new Error(`${target.id}'s engine worker has no network fault installed: a partition would leak through its data channels`);
      await evaluate(target, 'partition', () => target.page.evaluate(() => window.chaosNode.setPartitioned(true)));
      await sleep(fault.holdMs);
      await evaluate(target, 'heal partition', () => target.page.evaluate(() => window.chaosNode.setPartitioned(false)));
      break;
    }
    case 'loseChannels': {
      const lost = await evaluate(target, 'loseChannels', () => target.page.evaluate((disconnect) => window.chaosNode.loseChannels(disconnect), fault.choice < 0.5));
      note(`${lost.workerChannelsClosed} worker channels closed, ${lost.connectionsDropped} connections dropped`);
      await sleep(fault.holdMs);
      break;
    }
    case 'transferLeadership': {
      const others = cluster.live().filter((process) => process !== target);
      const recipient = others[Math.floor(fault.choice * others.length)] ?? others[0];
      if (recipient === undefined) break;
      const outcome = await evaluate(target, 'transferLeadership', () => target.page.evaluate(([to, timeoutMs]) => window.chaosNode.transferLeadership(to, timeoutMs), [recipient.id, 5_000] as const)).catch((error: unknown) => ({ type: 'error' as const, name: 'Runner', message: String(error) }));
      note(`to ${recipient.id}: ${outcome.type === 'ok' ? 'done' : `${outcome.name}: ${outcome.message}`}`);
      await sleep(fault.holdMs);
      break;
    }
  }
  record.healedMs = elapsedMs();
}
