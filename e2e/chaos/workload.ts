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

  const propose = (process: ChaosProcess, proposal: ProposalRecord): Promise<{ invokedMs: number; completedMs: number; outcome: Attempt['outcome'] } | null> =>
    call(process, (target) => target.page.evaluate(([command, requestId, timeoutMs]) => window.chaosNode.propose(command, requestId, timeoutMs), [proposal.operationId, proposal.requestId, proposalTimeout()] as const), `propose ${proposal.operationId}`);

  async function plainClient(process: ChaosProcess, client: number): Promise<void> {
    while (!stopping) {
      if (!process.up) {
        await sleep(100);
        continue;
      }
      const proposal: ProposalRecord = { operationId: `${process.id}:plain${client}:${nextOperation++}`, node: process.id, kind: 'plain', clientId: null, requestId: null, attempts: [] };
      const attempt = await propose(process, proposal);
      if (attempt !== null) {
        proposal.attempts.push(attempt);
        history.proposals.push(proposal);
      }
      await pause();
    }
  }

  async function sessionClient(process: ChaosProcess, clientId: string, client: number): Promise<void> {
    while (!stopping) {
      if (!process.up) {
        await sleep(100);
        continue;
      }
      const requestId = (nextRequestId.get(process.id) ?? 1);
      nextRequestId.set(process.id, requestId + 1);
      const proposal: ProposalRecord = { operationId: `${process.id}:session${client}:${requestId}`, node: process.id, kind: 'session', clientId, requestId, attempts: [] };
      history.proposals.push(proposal);
      const started = elapsedMs();
      while (!stopping && elapsedMs() - started < sessionPatienceMs) {
        const attempt = await propose(process, proposal);
        if (attempt === null) {
          await sleep(100);
          continue;
        }
        proposal.attempts.push(attempt);
        if (attempt.outcome.type === 'ok') break;
        await sleep(100 + Math.floor(random() * 300));
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
