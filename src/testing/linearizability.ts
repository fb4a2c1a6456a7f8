// Linearizability checker for histories of the example key-value store, in the style of
// Porcupine: a history is linearizable if every operation can be given a point between its
// call and its return such that the operations, run one by one in that order against the
// sequential store, give exactly the outputs the clients saw. Keys are independent, so each
// key's sub-history is checked alone (P-compositionality), which keeps the exponential search
// small. An operation whose outcome is unknown (a timeout, a node that crashed mid-call) may
// or may not have taken effect: its return is taken to be +infinity and any output is accepted.
//
// Time stamps are whatever the caller measures (virtual clock milliseconds, a counter); only
// their order matters. An operation whose call time equals another client's return time is
// treated as concurrent with it (the lenient choice: a checker must not report a violation that a
// coarse clock manufactured). Of one client it is not: a client is sequential, so an operation it
// calls at the time its previous one returned comes after that one, whatever the clock's grain.

import type { KvCommand, KvResult } from './kv-command.ts';
import { describeInput, describeOutput, describeRegister, kvRegisterModel, registerEffect } from './kv-register-model.ts';
import type { RegisterState } from './kv-register-model.ts';
import { searchLinearization } from './linearizability-search.ts';
import type { SearchOperation } from './linearizability-search.ts';

export type KvInput = KvCommand;
export type KvOutput = KvResult;

export interface KvOperation {
  readonly clientId: string;
  readonly input: KvInput;
  readonly output: KvOutput | 'unknown';
  readonly call: number;
  /** Ignored (taken as +Infinity) when `output` is 'unknown'. */
  readonly return: number;
}

export interface LinearizabilityOptions {
  /**
   * Search steps allowed for each key (keys are searched one by one); past it that key's answer is
   * 'unknown'. Per key, so one hard key cannot starve the others: a definite violation on a later
   * key is still found.
   */
  readonly stepBudget?: number;
}

export const defaultStepBudget = 1_000_000;

export type LinearizabilityResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly key: string; readonly explanation: string }
  | { readonly ok: 'unknown'; readonly key: string; readonly explanation: string };

interface KeyedOperation extends SearchOperation<KvInput, KvOutput> {
  /** Position in the caller's history, so explanations point at the caller's data. */
  readonly position: number;
  readonly clientId: string;
}

/** Throws a RangeError for a malformed history (bad time stamps, a bad budget). */
export function checkLinearizability(
  history: readonly KvOperation[],
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const budget = options.stepBudget ?? defaultStepBudget;
  if (!Number.isSafeInteger(budget) || budget < 1) {
    throw new RangeError(`stepBudget must be a positive safe integer, got ${budget}`);
  }
  const byKey = partitionByKey(history);
  // Smallest sub-histories first: they are cheap, so a violation there is found even when a
  // large key would exhaust the budget. Ties by name keep the order deterministic.
  const keys = [...byKey.keys()].sort(
    (left, right) => (byKey.get(left)?.length ?? 0) - (byKey.get(right)?.length ?? 0) || (left < right ? -1 : 1),
  );
  let exhausted: LinearizabilityResult | undefined;
  for (const key of keys) {
    const operations = byKey.get(key) ?? [];
    const outcome = searchLinearization(kvRegisterModel, operations, budget);
    if (outcome.type === 'violation') {
      return { ok: false, key, explanation: explainViolation(key, operations, outcome.longestPrefix, outcome.stateAfterPrefix) };
    }
    // Keep checking the other keys: a definite violation elsewhere is worth more than 'unknown'.
    if (outcome.type === 'budgetExhausted' && exhausted === undefined) {
      exhausted = { ok: 'unknown', key, explanation: `the step budget ran out while checking ${operations.length} operations on key ${JSON.stringify(key)}` };
    }
  }
  return exhausted ?? { ok: true };
}

function partitionByKey(history: readonly KvOperation[]): Map<string, KeyedOperation[]> {
  const byKey = new Map<string, KeyedOperation[]>();
  history.forEach((operation, position) => {
    validateTimes(operation, position);
    const unknown = operation.output === 'unknown';
    // A read whose outcome is unknown constrains nothing: it may be placed last, seeing anything.
    if (unknown && operation.input.type === 'get') return;
    const keyed: KeyedOperation = {
      position,
      clientId: operation.clientId,
      input: operation.input,
      output: operation.output,
      call: operation.call,
      return: unknown ? Number.POSITIVE_INFINITY : operation.return,
    };
    const list = byKey.get(operation.input.key);
    if (list === undefined) byKey.set(operation.input.key, [keyed]);
    else list.push(keyed);
  });
  return byKey;
}

function validateTimes(operation: KvOperation, position: number): void {
  if (!Number.isFinite(operation.call)) {
    throw new RangeError(`operation ${position}: call time must be a finite number, got ${operation.call}`);
  }
  if (operation.output === 'unknown') return;
  if (!Number.isFinite(operation.return) || operation.return < operation.call) {
    throw new RangeError(
      `operation ${position}: a completed operation needs a finite return time at or after its call (${operation.call}), got ${operation.return}`,
    );
  }
}

/** Most operations listed by name in an explanation, so a long history stays readable. */
const listedOperations = 8;

function explainViolation(
  key: string,
  operations: readonly KeyedOperation[],
  prefix: readonly number[],
  state: RegisterState,
): string {
  const placed = new Set(prefix);
  const remaining = operations.filter((_, index) => !placed.has(index));
  const earliestReturn = Math.min(...remaining.map((operation) => operation.return));
  const candidates = remaining.filter((operation) => operation.call <= earliestReturn);
  const shownPrefix = prefix.slice(-listedOperations).map((index) => describe(operations[index]));
  const skipped = prefix.length - shownPrefix.length;
  return [
    `no linearizable order exists for the ${operations.length} operations on key ${JSON.stringify(key)}.`,
    `The longest order the sequential store accepts places ${prefix.length}` +
      (prefix.length === 0 ? '.' : `${skipped > 0 ? ` (${skipped} earlier not shown)` : ''}: ${shownPrefix.join('; ')}.`),
    `After it the key holds ${describeRegister(state)}, and no operation that could come next fits:`,
    candidates
      .slice(0, listedOperations)
      .map((operation) => `${describe(operation)} (the store would answer ${describeOutput(registerEffect(state, operation.input).result)})`)
      .join('; '),
  ].join(' ');
}

function describe(operation: KeyedOperation | undefined): string {
  if (operation === undefined) return '?';
  const returned = Number.isFinite(operation.return) ? String(operation.return) : 'never';
  return `#${operation.position} ${operation.clientId} ${describeInput(operation.input)} -> ${describeOutput(operation.output)} [call ${operation.call}, return ${returned}]`;
}
