// The sequential specification of one key of the example key-value store, for the
// linearizability checker: a register holding a string or nothing (null). Keys are
// independent, so the checker checks each key's sub-history against this model alone
// (P-compositionality: a history is linearizable iff every key's sub-history is).

import type { KvCommand, KvResult } from './kv-command.ts';
import type { SequentialModel } from './linearizability-search.ts';

export type RegisterState = string | null;

interface Effect {
  readonly next: RegisterState;
  readonly result: KvResult;
}

const written: KvResult = { type: 'written' };

export function registerEffect(state: RegisterState, input: KvCommand): Effect {
  switch (input.type) {
    case 'get':
      return { next: state, result: { type: 'read', value: state } };
    case 'put':
      return { next: input.value, result: written };
    case 'append':
      return { next: (state ?? '') + input.value, result: written };
    case 'compareAndSet': {
      const succeeded = state === input.expected;
      return { next: succeeded ? input.value : state, result: { type: 'compared', succeeded } };
    }
    case 'delete':
      return { next: null, result: written };
  }
}

function sameResult(expected: KvResult, actual: KvResult): boolean {
  switch (expected.type) {
    case 'read':
      return actual.type === 'read' && actual.value === expected.value;
    case 'compared':
      return actual.type === 'compared' && actual.succeeded === expected.succeeded;
    case 'written':
    case 'invalid':
      return actual.type === expected.type;
  }
}

export const kvRegisterModel: SequentialModel<RegisterState, KvCommand, KvResult> = {
  initial: null,
  step(state, input, output) {
    // A command the store refused as invalid had no effect, whatever the model would compute.
    if (output !== 'unknown' && output.type === 'invalid') return state;
    const effect = registerEffect(state, input);
    if (output === 'unknown') return effect.next;
    return sameResult(effect.result, output) ? effect.next : undefined;
  },
  // JSON keeps null and every string distinct ("null" the string vs null the absence).
  stateKey: (state) => JSON.stringify(state),
};

export function describeRegister(state: RegisterState): string {
  return state === null ? 'nothing' : JSON.stringify(state);
}

export function describeInput(input: KvCommand): string {
  switch (input.type) {
    case 'get':
    case 'delete':
      return `${input.type}(${JSON.stringify(input.key)})`;
    case 'put':
    case 'append':
      return `${input.type}(${JSON.stringify(input.key)}, ${JSON.stringify(input.value)})`;
    case 'compareAndSet':
      return `compareAndSet(${JSON.stringify(input.key)}, ${describeRegister(input.expected)} -> ${JSON.stringify(input.value)})`;
  }
}

export function describeOutput(output: KvResult | 'unknown'): string {
  if (output === 'unknown') return 'unknown';
  switch (output.type) {
    case 'read':
      return describeRegister(output.value);
    case 'written':
      return 'ok';
    case 'compared':
      return output.succeeded ? 'succeeded' : 'failed';
    case 'invalid':
      return `invalid (${output.reason})`;
  }
}
