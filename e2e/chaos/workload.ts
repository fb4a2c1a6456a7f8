// The campaign's clients, run from the Node runner against the pages: on the node with identity
// 'auto', plain proposals (one call each); on the nodes with a durable client id, client sessions
// (one request id per command, retried with the same id until acknowledged, across leader changes
// and restarts, as the README's "Exactly-once" describes); on every node, linearizable reads
// (awaitRead). Each call's invocation, completion and outcome go into the history.
import { seededRandom } from '../../src/index.ts';
import type { ChaosCluster, ChaosProcess } from './cluster.ts';
import type { Attempt, History, Outcome, ProposalRecord } from './history.ts';
import type { CallOutcome } from './pages/chaos-protocol.ts';
import { elapsedMs, sleep, withTimeout } from './time.ts';

/**
 * The page bounds each proposal with an abort signal drawn between these (a short one often aborts
 * a proposal already on its way: an unknown outcome the checker must tolerate, and the path where
 * an aborted proposal still commits); the runner bounds its page.evaluate later (a frozen page).
 */
const callTimeoutMs = { shortest: 1_000, longest: 10_000 } as const;
const evaluateTimeoutMs = 20_000;
/** Concurrent clients per node: proposers (plain or session, by the node's identity) and readers. */
const proposersPerNode = 3;
const readersPerNode = 1;
/** A proposer sends a burst (one synchronous run on the page) this often, of up to maxBurst. */
const burstChance = 0.15;
const maxBurst = 32;
/** A session command is retried for at most this long, then left unknown. */
const sessionPatienceMs = 60_000;
/** Errors that prove a proposal never reached the log: it never reached a node, or was refused. */
const definiteFailures = new Set(['NotStarted', 'ProposalRejectedError']);

export interface Workload {
  /** Stops every client and waits for the calls in flight (each bounded). */
  stop(): Promise<void>;
}

/** Calls the page; null when the process is down (nothing was invoked). */
async function call<T>(process: ChaosProcess, invoke: (process: ChaosProcess) => Promise<CallOutcome<T>>, what: string): Promise<{ invokedMs: number; completedMs: number; outcome: Outcome<T> } | null> {
  if (!process.up) return null;
  const invokedMs = elapsedMs();
  let outcome: Outcome<T>;
  try {
    const answer = await withTimeout(invoke(process), evaluateTimeoutMs, what);
    if (answer.type === 'ok') outcome = { type: 'ok', value: answer.value };
    else outcome = { type: definiteFailures.has(answer.name) ? 'failed' : 'unknown', error: `${answer.name}: ${answer.message}` };
  } catch (error) {
    // The page closed, crashed or hung: whatever the call did, the runner cannot know.
    outcome = { type: 'unknown', error: error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error) };
  }
  return { invokedMs, completedMs: elapsedMs(), outcome };
}

export function startWorkload(cluster: ChaosCluster, history: History, seed: number): Workload {
  const random = seededRandom(seed ^ 0x5eed);
  let stopping = false;
  const pause = (): Promise<void> => sleep(10 + Math.floor(random() * 40));
  const proposalTimeout = (): number => Math.round(callTimeoutMs.shortest + random() * (callTimeoutMs.longest - callTimeoutMs.shortest));
  const nextRequestId = new Map<string, number>();
  let nextOperation = 0;

  /**
   * Proposes the commands in one synchronous run on the page (one burst to the worker, one engine
   * step); each gets its own attempt with the burst's invocation and completion times.
   */
  async function proposeBurst(process: ChaosProcess, proposals: readonly ProposalRecord[]): Promise<boolean> {
    const items = proposals.map((proposal) => ({ command: proposal.operationId, requestId: proposal.requestId }));
    const answers = await call(process, (target) => target.page.evaluate(([burst, timeoutMs]) => window.chaosNode.proposeMany(burst, timeoutMs), [items, proposalTimeout()] as const), `burst of ${items.length} on ${process.id}`);
    if (answers === null) return false;
    proposals.forEach((proposal, position) => {
      const answer = answers.outcome.type === 'ok' ? answers.outcome.value[position] : undefined;
      const outcome: Attempt['outcome'] =
        answer === undefined ? (answers.outcome.type === 'ok' ? { type: 'unknown', error: 'no answer' } : (answers.outcome as Attempt['outcome']))
        : answer.type === 'ok' ? answer
        : { type: definiteFailures.has(answer.name) ? 'failed' : 'unknown', error: `${answer.name}: ${answer.message}` };
      proposal.attempts.push({ invokedMs: answers.invokedMs, completedMs: answers.completedMs, outcome });
    });
    return true;
  }

  /** Mostly one command at a time; now and then a burst of up to maxBurst. */
  const burstSize = (): number => (random() < burstChance ? 2 + Math.floor(random() * (maxBurst - 1)) : 1);

  async function plainClient(process: ChaosProcess, client: number): Promise<void> {
    while (!stopping) {
      if (!process.up) {
        await sleep(100);
        continue;
      }
      const proposals = [...Array(burstSize()).keys()].map((): ProposalRecord => ({ operationId: `${process.id}:plain${client}:${nextOperation++}`, node: process.id, kind: 'plain', clientId: null, requestId: null, attempts: [] }));
      if (await proposeBurst(process, proposals)) history.proposals.push(...proposals);
      await pause();
    }
  }

  async function sessionClient(process: ChaosProcess, clientId: string, client: number): Promise<void> {
    while (!stopping) {
      if (!process.up) {
        await sleep(100);
        continue;
      }
      const proposals = [...Array(burstSize()).keys()].map((): ProposalRecord => {
        const requestId = nextRequestId.get(process.id) ?? 1;
        nextRequestId.set(process.id, requestId + 1);
        return { operationId: `${process.id}:session${client}:${requestId}`, node: process.id, kind: 'session', clientId, requestId, attempts: [] };
      });
      history.proposals.push(...proposals);
      const started = elapsedMs();
      // The first try as a burst, then each unacknowledged one again under its request id.
      for (let unresolved = proposals; unresolved.length > 0 && !stopping && elapsedMs() - started < sessionPatienceMs; ) {
        if (!(await proposeBurst(process, unresolved))) {
          await sleep(100);
          continue;
        }
        unresolved = unresolved.filter((proposal) => proposal.attempts.at(-1)?.outcome.type !== 'ok');
        if (unresolved.length > 0) await sleep(100 + Math.floor(random() * 300));
      }
      await pause();
    }
  }

  async function reader(process: ChaosProcess): Promise<void> {
    while (!stopping) {
      const read = await call(process, (target) => target.page.evaluate((timeoutMs) => window.chaosNode.read(timeoutMs), callTimeoutMs.longest), `read on ${process.id}`);
      if (read === null) await sleep(100);
      else {
        // A read changes nothing, so every failure of one is simply a failure.
        history.reads.push({ node: process.id, invokedMs: read.invokedMs, completedMs: read.completedMs, outcome: read.outcome.type === 'unknown' ? { type: 'failed', error: read.outcome.error } : read.outcome });
        await sleep(50 + Math.floor(random() * 100));
      }
    }
  }

  const clients = cluster.processes.flatMap((process, position) => {
    const numbers = [...Array(proposersPerNode).keys()];
    const proposers = position === 0 ? numbers.map((client) => plainClient(process, client)) : numbers.map((client) => sessionClient(process, `session-${process.id}`, client));
    return [...proposers, ...[...Array(readersPerNode).keys()].map(() => reader(process))];
  });
  return {
    async stop() {
      stopping = true;
      await Promise.all(clients);
    },
  };
}
