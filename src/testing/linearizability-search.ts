// The search behind the linearizability checker: Wing & Gong's algorithm with Lowe's
// memoisation, as in Porcupine (Athalye, github.com/anishathalye/porcupine). Operations become
// call and return events on a doubly linked list in time order. The search repeatedly takes a
// pending call, tries it as the next operation of a sequential run of the model, and lifts it
// off the list if the model accepts its output; reaching a return event means the operation it
// belongs to was never placed before it finished, so the search backtracks. Lowe's cache
// remembers every (set of operations placed, model state) already explored, so equivalent
// orders are explored once, which is what makes the search practical.
//
// Operations of one client are sequential: one called at the very time its client's previous one
// returned still follows it. The event list cannot say so (it counts a call and a return at one
// time as concurrent, which is right for different clients whose clock may be coarse), so the
// search places an operation only once every operation of its client that returned at its call
// time is placed.
//
// The search is bounded by a step budget: it is exponential in the worst case, and a checker
// that hangs a test run is worse than one that says "unknown".

export interface SequentialModel<State, Input, Output> {
  readonly initial: State;
  /** The state after the operation, or undefined if the model cannot produce `output`. */
  step(state: State, input: Input, output: Output | 'unknown'): State | undefined;
  /** Equal states must give equal keys: it is half of the memoisation key. */
  stateKey(state: State): string;
}

export interface SearchOperation<Input, Output> {
  readonly input: Input;
  readonly output: Output | 'unknown';
  readonly call: number;
  /** +Infinity for an operation whose outcome is unknown. */
  readonly return: number;
  /** Who issued it: operations of one client follow one another, even at touching times. */
  readonly clientId?: string;
}

export type SearchOutcome<State> =
  | { readonly type: 'linearizable'; readonly steps: number }
  | {
      readonly type: 'violation';
      readonly steps: number;
      /** The longest order of operations (indices) the model accepted. */
      readonly longestPrefix: readonly number[];
      readonly stateAfterPrefix: State;
    }
  | { readonly type: 'budgetExhausted'; readonly steps: number };

interface EventNode {
  readonly operation: number;
  /** For a call: its return event; null for a return. */
  readonly match: EventNode | null;
  previous: EventNode | null;
  next: EventNode | null;
}

interface Frame<State> {
  readonly call: EventNode;
  readonly stateBefore: State;
}

export function searchLinearization<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  operations: readonly SearchOperation<Input, Output>[],
  stepBudget: number,
): SearchOutcome<State> {
  const head = buildEventList(operations);
  const predecessors = sameClientPredecessors(operations);
  const placed = new OperationSet(operations.length);
  const predecessorsPlaced = (operation: number): boolean => (predecessors.get(operation) ?? []).every((predecessor) => placed.has(predecessor));
  const explored = new Set<string>();
  const stack: Frame<State>[] = [];
  let state = model.initial;
  let best = { prefix: [] as number[], state: model.initial };
  let cursor = head.next;
  let steps = 0;
  while (cursor !== null) {
    steps += 1;
    if (steps > stepBudget) return { type: 'budgetExhausted', steps: stepBudget };
    if (cursor.match !== null) {
      const operation = operations[cursor.operation];
      const next = operation === undefined ? undefined : model.step(state, operation.input, operation.output);
      if (next !== undefined && predecessorsPlaced(cursor.operation) && placed.tryAdd(cursor.operation, model.stateKey(next), explored)) {
        stack.push({ call: cursor, stateBefore: state });
        state = next;
        lift(cursor);
        if (stack.length > best.prefix.length) best = { prefix: stack.map((frame) => frame.call.operation), state };
        cursor = head.next;
      } else {
        cursor = cursor.next;
      }
    } else {
      const frame = stack.pop();
      if (frame === undefined) {
        return { type: 'violation', steps, longestPrefix: best.prefix, stateAfterPrefix: best.state };
      }
      state = frame.stateBefore;
      placed.remove(frame.call.operation);
      unlift(frame.call);
      cursor = frame.call.next;
    }
  }
  return { type: 'linearizable', steps };
}

/**
 * For each operation called at the time another of its client returned, those others: they must
 * be placed first. (One that returned strictly earlier is already before it in the event list.)
 */
function sameClientPredecessors<Input, Output>(operations: readonly SearchOperation<Input, Output>[]): Map<number, number[]> {
  const returnsByClient = new Map<string, Map<number, number[]>>();
  operations.forEach((operation, index) => {
    if (operation.clientId === undefined || !Number.isFinite(operation.return)) return;
    const returns = returnsByClient.get(operation.clientId) ?? new Map<number, number[]>();
    returns.set(operation.return, [...(returns.get(operation.return) ?? []), index]);
    returnsByClient.set(operation.clientId, returns);
  });
  const predecessors = new Map<number, number[]>();
  operations.forEach((operation, index) => {
    if (operation.clientId === undefined) return;
    const returnedThen = (returnsByClient.get(operation.clientId)?.get(operation.call) ?? []).filter((other) => other !== index);
    if (returnedThen.length > 0) predecessors.set(index, returnedThen);
  });
  return predecessors;
}

/**
 * Calls sort before returns at equal times, so touching intervals count as concurrent (of one
 * client, they do not: see sameClientPredecessors).
 */
function buildEventList<Input, Output>(operations: readonly SearchOperation<Input, Output>[]): EventNode {
  const events: { time: number; isCall: boolean; node: EventNode }[] = [];
  operations.forEach((operation, index) => {
    const returnNode: EventNode = { operation: index, match: null, previous: null, next: null };
    const callNode: EventNode = { operation: index, match: returnNode, previous: null, next: null };
    events.push({ time: operation.call, isCall: true, node: callNode });
    events.push({ time: operation.return, isCall: false, node: returnNode });
  });
  events.sort((left, right) =>
    left.time !== right.time ? left.time - right.time : Number(right.isCall) - Number(left.isCall),
  );
  const head: EventNode = { operation: -1, match: null, previous: null, next: null };
  let tail = head;
  for (const { node } of events) {
    tail.next = node;
    node.previous = tail;
    tail = node;
  }
  return head;
}

// A call always has a previous node (at least the head) and a next node (at least its return).
function lift(call: EventNode): void {
  const match = call.match;
  if (call.previous === null || call.next === null || match === null || match.previous === null) {
    throw new Error('linearizability search: lifted a node that is not a linked call');
  }
  call.previous.next = call.next;
  call.next.previous = call.previous;
  match.previous.next = match.next;
  if (match.next !== null) match.next.previous = match.previous;
}

function unlift(call: EventNode): void {
  const match = call.match;
  if (call.previous === null || call.next === null || match === null || match.previous === null) {
    throw new Error('linearizability search: unlifted a node that is not a lifted call');
  }
  match.previous.next = match;
  if (match.next !== null) match.next.previous = match;
  call.previous.next = call;
  call.next.previous = call;
}

/** The set of placed operations as a bit set whose string form keys Lowe's cache. */
class OperationSet {
  private readonly words: Uint16Array;

  constructor(size: number) {
    this.words = new Uint16Array(Math.ceil(size / 16));
  }

  /** Adds the operation unless (set + it, state) was explored already; records it as explored. */
  tryAdd(operation: number, stateKey: string, explored: Set<string>): boolean {
    this.flip(operation);
    const key = `${this.key()}|${stateKey}`;
    if (explored.has(key)) {
      this.flip(operation);
      return false;
    }
    explored.add(key);
    return true;
  }

  remove(operation: number): void {
    this.flip(operation);
  }

  has(operation: number): boolean {
    return (((this.words[operation >>> 4] ?? 0) >>> (operation & 15)) & 1) === 1;
  }

  private flip(operation: number): void {
    const wordIndex = operation >>> 4;
    this.words[wordIndex] = (this.words[wordIndex] ?? 0) ^ (1 << (operation & 15));
  }

  // Sixteen operations per UTF-16 code unit keeps the cache keys (and memory) small.
  private key(): string {
    let key = '';
    for (let start = 0; start < this.words.length; start += 4096) {
      key += String.fromCharCode(...this.words.subarray(start, start + 4096));
    }
    return key;
  }
}
