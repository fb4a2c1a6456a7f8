// The write and read load: one loop per live tab, one operation at a time, dispatching counter
// increments under campaign-unique ids and now and then reading. The Node side stamps each
// operation's invocation before it is sent to the page and its completion when the answer is back,
// so the recorded interval contains the real one (what a linearizability check needs). A page
// that dies mid-call leaves the outcome unknown; a frozen page's call simply waits for the thaw.
// Now and then a loop fires a burst instead: more dispatches at once than the page's store lets
// pend (page-api.ts maxPendingCommands), so several requests of one client are in flight together
// across whatever fault is on, and the overflow is refused up front — a definite failure, which
// the checker holds is never applied.
import type { ChaosTab } from './chaos-tab.ts';
import type { ChaosHistory, DispatchRecord, OperationRecord, ReadRecord } from './history.ts';
import { maxPendingCommands, type DispatchAnswer, type ReadAnswer } from './page-api.ts';

/** Inside the page: a dispatch or read still waiting after this long is aborted (unknown outcome). */
export const operationTimeoutMs = 20_000;
const readShare = 0.2;
const burstShare = 0.02;
/** Four more than the store lets pend: about four of each burst are refused up front (fewer if some apply while the burst still arrives). */
const burstSize = maxPendingCommands + 4;
const pauseMs: readonly [number, number] = [50, 300];

export interface Workload {
  /** Starts a loop for the tab's current page (one per incarnation). */
  follow(tab: ChaosTab): void;
  /** No new operations; resolves once every loop has finished its current one (bounded by the caller). */
  stop(): Promise<void>;
  /** Runs one operation now and records it (the final dispatch and read after the heal). */
  dispatchOnce(tab: ChaosTab, final: boolean, timeoutMs: number): Promise<DispatchRecord>;
  readOnce(tab: ChaosTab, final: boolean, timeoutMs: number): Promise<ReadRecord>;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0] ?? error.name : String(error));

export function createWorkload(history: ChaosHistory, now: () => number, random: () => number): Workload {
  const counters = new Map<string, number>();
  const loops = new Set<Promise<void>>();
  let stopped = false;

  /** Records an operation, then its answer: the outcome, and the state it saw or the error. */
  const settle = async <Record extends OperationRecord>(record: Record, call: Promise<DispatchAnswer | ReadAnswer>): Promise<Record> => {
    history.operations.push(record);
    try {
      const answer = await call;
      record.completedAtMs = now();
      record.outcome = answer.outcome;
      if (answer.outcome === 'ok') Object.assign(record, { length: answer.length, digest: answer.digest });
      else record.error = answer.error;
    } catch (error) {
      // The page went away (closed, killed) with the call in flight: a dispatch may have committed.
      record.error = `page gone: ${errorText(error)}`;
    }
    return record;
  };

  const dispatchOnce = async (tab: ChaosTab, final: boolean, timeoutMs: number): Promise<DispatchRecord> => {
    const number = (counters.get(tab.name) ?? 0) + 1;
    counters.set(tab.name, number);
    const record: DispatchRecord = { kind: 'dispatch', operationId: `${tab.name}-${number}`, tab: tab.name, invokedAtMs: now(), completedAtMs: null, outcome: 'unknown', final };
    return settle(record, tab.dispatch(record.operationId, timeoutMs));
  };

  const readOnce = async (tab: ChaosTab, final: boolean, timeoutMs: number): Promise<ReadRecord> => {
    const record: ReadRecord = { kind: 'read', tab: tab.name, invokedAtMs: now(), completedAtMs: null, outcome: 'unknown', final };
    return settle(record, tab.read(timeoutMs));
  };

  const loop = async (tab: ChaosTab): Promise<void> => {
    const incarnation = tab.incarnation;
    const current = (): boolean => !stopped && tab.state === 'live' && tab.incarnation === incarnation;
    while (current()) {
      const draw = random();
      if (draw < burstShare) await Promise.all(Array.from({ length: burstSize }, () => dispatchOnce(tab, false, operationTimeoutMs)));
      else if (draw < burstShare + readShare) await readOnce(tab, false, operationTimeoutMs);
      else await dispatchOnce(tab, false, operationTimeoutMs);
      await new Promise((resolve) => setTimeout(resolve, pauseMs[0] + random() * (pauseMs[1] - pauseMs[0])));
    }
  };

  return {
    follow(tab) {
      if (stopped) return;
      const running = loop(tab).finally(() => loops.delete(running));
      loops.add(running);
    },
    async stop() {
      stopped = true;
      await Promise.all([...loops]);
    },
    dispatchOnce,
    readOnce,
  };
}
