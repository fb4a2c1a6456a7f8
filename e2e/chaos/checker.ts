// The campaign's verdict, from the recorded history and the final logs alone (pure: unit-tested in
// checker.test.ts with planted bugs). What it demands:
// - convergence: after the final heal every node holds the same committed sequence, position by
//   position, up to the same commit index;
// - acknowledged proposals: the entry at the acknowledged index carries that command (and its
//   dedup key), and the command takes effect exactly once in the applied sequence (the
//   application applies through a ClientSessionTable, as the README's "Exactly-once" says);
// - unacknowledged ones take effect at most once, however often they were retried; one whose
//   every attempt failed definitely (never reached a node, or refused) is absent from the log;
// - nothing in the log that no client proposed;
// - reads: the state a read returned is the state of the committed prefix it names; its read index
//   is at or above every acknowledgement that completed before the read began, and below the
//   first appearance of every command first proposed after the read completed.
import { ClientSessionTable, clientId as makeClientId } from '../../src/index.ts';
import type { History, ProposalRecord } from './history.ts';
import { foldState, initialState, type AppliedState, type CommittedRecord } from './pages/chaos-protocol.ts';

export interface Verdict {
  readonly ok: boolean;
  readonly violations: readonly string[];
  readonly summary: {
    readonly commitIndex: number;
    readonly commands: number;
    readonly acknowledged: number;
    readonly definitelyFailed: number;
    readonly unknown: number;
    readonly unknownCommitted: number;
    readonly retriedSessions: number;
    readonly duplicatesInLog: number;
    readonly acknowledgedAtReplay: number;
    readonly reads: number;
    readonly readsChecked: number;
  };
}

/** At most this many violations are listed (the first ones tell the story). */
const maxViolations = 200;

/**
 * Every voter's final log was read, except those lost for good, and those left are a majority: a
 * lost minority is a crash-stop Raft carries, a lost majority is data loss no library makes good,
 * and the logs of what is left would prove nothing.
 */
function checkVotersRead(history: History, violations: string[]): void {
  const lost = history.voters.filter((voter) => history.lostForGood[voter] !== undefined);
  if (history.voters.length - lost.length <= history.voters.length / 2) violations.push(`majority: ${lost.length} of ${history.voters.length} voters lost for good (${lost.join(', ')}), no majority left`);
  for (const voter of history.voters) {
    if (history.finalLogs[voter] === undefined && history.lostForGood[voter] === undefined) violations.push(`convergence: ${voter}'s final log was never read`);
  }
}

function compareLogs(history: History, violations: string[]): CommittedRecord[] {
  checkVotersRead(history, violations);
  const nodes = Object.keys(history.finalLogs);
  const reference = history.finalLogs[nodes[0] ?? ''] ?? [];
  for (const node of nodes) {
    const log = history.finalLogs[node] ?? [];
    const commitIndex = history.finalCommitIndexes[node];
    if (commitIndex !== (reference.length === 0 ? 0 : reference.length)) violations.push(`convergence: ${node} has commit index ${commitIndex}, ${nodes[0]} has ${reference.length}`);
    if (log.length !== reference.length) violations.push(`convergence: ${node} applied ${log.length} entries, ${nodes[0]} applied ${reference.length}`);
    log.forEach((record, position) => {
      if (record.index !== position + 1) violations.push(`log: ${node} position ${position + 1} holds index ${record.index}`);
      const other = reference[position];
      if (other !== undefined && JSON.stringify(other) !== JSON.stringify(record)) violations.push(`divergence at index ${position + 1}: ${node} has ${JSON.stringify(record)}, ${nodes[0]} has ${JSON.stringify(other)}`);
    });
  }
  return reference;
}

interface Applied {
  /** states[i]: the application's state after index i (states[0]: initial). */
  readonly states: AppliedState[];
  /** Each command's indexes in the log, and the index where it took effect. */
  readonly raw: Map<string, number[]>;
  readonly effective: Map<string, number[]>;
}

function apply(log: readonly CommittedRecord[]): Applied {
  const sessions = new ClientSessionTable();
  const states: AppliedState[] = [initialState];
  const raw = new Map<string, number[]>();
  const effective = new Map<string, number[]>();
  let state = initialState;
  for (const record of log) {
    const takes = record.command !== null && sessions.shouldApply(record.clientId === null ? undefined : { clientId: makeClientId(record.clientId), requestId: record.requestId ?? 0 });
    state = foldState(state, record, takes);
    states.push(state);
    if (record.command === null) continue;
    raw.set(record.command, [...(raw.get(record.command) ?? []), record.index]);
    if (takes) effective.set(record.command, [...(effective.get(record.command) ?? []), record.index]);
  }
  return { states, raw, effective };
}

const acknowledgedIndexes = (proposal: ProposalRecord): number[] => proposal.attempts.flatMap((attempt) => (attempt.outcome.type === 'ok' ? [attempt.outcome.value.index] : []));

export function check(history: History): Verdict {
  const violations: string[] = [];
  const log = compareLogs(history, violations);
  const { states, raw, effective } = apply(log);
  const proposals = new Map(history.proposals.map((proposal) => [proposal.operationId, proposal]));
  let acknowledged = 0;
  let definitelyFailed = 0;
  let unknown = 0;
  let unknownCommitted = 0;
  let duplicatesInLog = 0;
  let acknowledgedAtReplay = 0;

  for (const command of raw.keys()) if (!proposals.has(command)) violations.push(`phantom: ${JSON.stringify(command)} is in the log but no client proposed it`);
  for (const proposal of history.proposals) {
    const acks = acknowledgedIndexes(proposal);
    const rawIndexes = raw.get(proposal.operationId) ?? [];
    const effectiveIndexes = effective.get(proposal.operationId) ?? [];
    if (rawIndexes.length > 1) duplicatesInLog += 1;
    for (const index of acks) {
      const entry = log[index - 1];
      if (entry === undefined || entry.command !== proposal.operationId) violations.push(`lost ack: ${proposal.operationId} was acknowledged at index ${index}, which holds ${JSON.stringify(entry ?? null)}`);
      else if (proposal.requestId !== null && (entry.clientId !== proposal.clientId || entry.requestId !== proposal.requestId)) violations.push(`dedup key: ${proposal.operationId} at index ${index} carries ${entry.clientId}/${entry.requestId}, proposed as ${proposal.clientId}/${proposal.requestId}`);
      else if (!effectiveIndexes.includes(index)) acknowledgedAtReplay += 1;
    }
    if (effectiveIndexes.length > 1) violations.push(`exactly-once: ${proposal.operationId} took effect ${effectiveIndexes.length} times (indexes ${effectiveIndexes.join(', ')}), retried ${proposal.attempts.length} times`);
    if (acks.length > 0) {
      acknowledged += 1;
      if (effectiveIndexes.length === 0) violations.push(`lost ack: ${proposal.operationId} was acknowledged (index ${acks.join(', ')}) but never took effect`);
    } else if (proposal.attempts.length > 0 && proposal.attempts.every((attempt) => attempt.outcome.type === 'failed')) {
      definitelyFailed += 1;
      if (rawIndexes.length > 0) violations.push(`definite failure committed: ${proposal.operationId} failed (${proposal.attempts.map((attempt) => (attempt.outcome.type === 'failed' ? attempt.outcome.error : '')).join('; ')}) yet is at index ${rawIndexes.join(', ')}`);
    } else {
      unknown += 1;
      if (rawIndexes.length > 0) unknownCommitted += 1;
    }
  }
  const readsChecked = checkReads(history, states, raw, violations);
  checkElectionSafety(history, violations);
  const summary = {
    commitIndex: log.length,
    commands: history.proposals.length,
    acknowledged,
    definitelyFailed,
    unknown,
    unknownCommitted,
    retriedSessions: history.proposals.filter((proposal) => proposal.kind === 'session' && proposal.attempts.length > 1).length,
    duplicatesInLog,
    acknowledgedAtReplay,
    reads: history.reads.length,
    readsChecked,
  };
  return { ok: violations.length === 0, violations: violations.slice(0, maxViolations), summary };
}

/** Election safety (Raft §5.2): no two nodes ever said they led the same term. */
function checkElectionSafety(history: History, violations: string[]): void {
  const leaders = new Map<number, string[]>();
  for (const [node, terms] of Object.entries(history.leadership ?? {})) {
    for (const [term, atMs] of Object.entries(terms)) leaders.set(Number(term), [...(leaders.get(Number(term)) ?? []), `${node} (seen at ${atMs} ms)`]);
  }
  for (const [term, nodes] of leaders) if (nodes.length > 1) violations.push(`election safety: term ${term} was led by ${nodes.join(' and ')}`);
}

function checkReads(history: History, states: readonly AppliedState[], raw: ReadonlyMap<string, number[]>, violations: string[]): number {
  // Acknowledgements in completion order, with the running maximum index, for "acked before".
  const acks = history.proposals
    .flatMap((proposal) => proposal.attempts.flatMap((attempt) => (attempt.outcome.type === 'ok' ? [{ atMs: attempt.completedMs, index: attempt.outcome.value.index, operation: proposal.operationId }] : [])))
    .sort((left, right) => left.atMs - right.atMs);
  // Commands by first invocation, with the lowest index at which each (or any later one) appears.
  const firsts = history.proposals
    .filter((proposal) => proposal.attempts.length > 0)
    .map((proposal) => ({ atMs: proposal.attempts[0]?.invokedMs ?? 0, index: Math.min(...(raw.get(proposal.operationId) ?? [Infinity])), operation: proposal.operationId }))
    .sort((left, right) => left.atMs - right.atMs);
  // highestUpTo[i]: the position of the highest index among acks[0..i]; lowestFrom[i]: the
  // position of the lowest index among firsts[i..].
  const highestUpTo: number[] = [];
  acks.forEach((ack, position) => {
    const previous = highestUpTo[position - 1];
    highestUpTo.push(previous !== undefined && (acks[previous]?.index ?? 0) >= ack.index ? previous : position);
  });
  const lowestFrom: number[] = new Array<number>(firsts.length);
  for (let position = firsts.length - 1; position >= 0; position -= 1) {
    const next = lowestFrom[position + 1];
    lowestFrom[position] = next !== undefined && (firsts[next]?.index ?? Infinity) <= (firsts[position]?.index ?? Infinity) ? next : position;
  }
  let checked = 0;
  for (const read of history.reads) {
    if (read.outcome.type !== 'ok') continue;
    checked += 1;
    const value = read.outcome.value;
    const where = `read on ${read.node} at ${read.invokedMs}–${read.completedMs} ms (read index ${value.readIndex}, applied ${value.appliedIndex})`;
    if (value.appliedIndex < value.readIndex) violations.push(`${where}: answered before applying its read index`);
    const expected = states[value.appliedIndex];
    if (expected === undefined) violations.push(`${where}: applied index beyond the final commit index ${states.length - 1}`);
    else if (expected.count !== value.count || expected.hash !== value.hash) violations.push(`${where}: saw ${value.count} commands (hash ${value.hash}), the committed prefix has ${expected.count} (hash ${expected.hash})`);
    const before = lastBefore(acks, read.invokedMs);
    const ack = before < 0 ? undefined : acks[highestUpTo[before] ?? 0];
    if (ack !== undefined && ack.index > value.readIndex) violations.push(`stale read: ${where} began after ${ack.operation} was acknowledged at index ${ack.index}`);
    const after = lastBefore(firsts, read.completedMs, true) + 1;
    const first = after < firsts.length ? firsts[lowestFrom[after] ?? 0] : undefined;
    if (first !== undefined && first.index <= value.readIndex) violations.push(`read from the future: ${where} covers index ${first.index}, where ${first.operation} sits, first proposed after the read completed`);
  }
  return checked;
}

/**
 * The position of the last item with atMs before `atMs` (at or before it when `inclusive`), items
 * sorted by atMs; -1 if none.
 */
function lastBefore(items: readonly { readonly atMs: number }[], atMs: number, inclusive = false): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    const at = items[middle]?.atMs ?? Infinity;
    if (at < atMs || (inclusive && at === atMs)) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}
