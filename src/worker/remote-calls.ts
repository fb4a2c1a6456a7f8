// Calls from the page to the worker: each settles from the plain-data outcome the worker answers
// with, or at once when its signal aborts or the node stops. Two ways an answer comes back:
// - as a Comlink return value (most calls). Outcomes and events travel on different channels,
//   which keep no order between them, so such an outcome is held until the event batch it names
//   has been handled (CallOutcome.eventsThrough): a resolved call is never ahead of the
//   observables, metrics or committed streams it caused;
// - as an `answer` event (proposals, the hot path): already in order with every other event, and
//   batched with them, so a burst of proposals costs one message each way, not one per proposal.
import { watchAbort } from '../driver/abort-watch.ts';
import { rebuildError } from './error-transfer.ts';
import type { Answer, CallOutcome } from './protocol.ts';

export interface RemoteCalls {
  /** A call answered by its Comlink return value; `begin` sends it. */
  call<T>(signal: AbortSignal | undefined, begin: (callId: number) => Promise<CallOutcome<T>>): Promise<T>;
  /** A call answered by an `answer` event; `send` queues it. */
  submit<T>(signal: AbortSignal | undefined, send: (callId: number) => void): Promise<T>;
  /** An `answer` event arrived. */
  answered(callId: number, answer: Answer<unknown>): void;
  /** The page handled event batch `sequence`: answers waiting for it settle now. */
  eventsHandled(sequence: number): void;
  /** The node stopped: every pending call rejects with `error`. */
  rejectAll(error: Error): void;
}

interface PendingCall {
  settle(answer: Answer<unknown>): void;
  fail(error: unknown): void;
}

export function createRemoteCalls(options: {
  readonly stoppedBy: () => Error | null;
  /** Tells the worker to drop the call (or the page to unqueue it, if not sent yet). */
  readonly abort: (callId: number) => void;
}): RemoteCalls {
  const pending = new Map<number, PendingCall>();
  let nextCallId = 1;
  let handledSequence = 0;
  let waitingAnswers: Array<{ readonly through: number; readonly settle: () => void }> = [];

  /** Registers a call, wires its signal, and starts it; the returned promise settles once. */
  const track = <T>(signal: AbortSignal | undefined, start: (callId: number) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const stoppedBy = options.stoppedBy();
      if (stoppedBy !== null) throw stoppedBy;
      signal?.throwIfAborted();
      const callId = nextCallId++;
      let endWatch: (() => void) | null = null;
      const finish = (): boolean => {
        endWatch?.();
        return pending.delete(callId);
      };
      const onAbort = (): void => {
        if (!finish()) return;
        options.abort(callId);
        reject(signal?.reason);
      };
      pending.set(callId, {
        settle: (answer) => {
          if (!finish()) return;
          if (answer.type === 'ok') resolve(answer.value as T);
          else reject(rebuildError(answer.error));
        },
        fail: (error) => {
          if (finish()) reject(error);
        },
      });
      if (signal !== undefined) endWatch = watchAbort(signal, onAbort);
      try {
        start(callId);
      } catch (error) {
        // Never sent (its message could not be cloned): nothing will answer it, so it is not
        // left pending, nor its signal watched, for the node's lifetime.
        finish();
        throw error;
      }
    });

  const afterEvents = (through: number, settle: () => void): void => {
    if (through <= handledSequence) settle();
    else waitingAnswers.push({ through, settle });
  };

  return {
    call: <T>(signal: AbortSignal | undefined, begin: (callId: number) => Promise<CallOutcome<T>>) =>
      track<T>(signal, (callId) => {
        begin(callId).then(
          (outcome) => afterEvents(outcome.eventsThrough, () => pending.get(callId)?.settle(outcome)),
          (error: unknown) => pending.get(callId)?.fail(error),
        );
      }),
    submit: (signal, send) => track(signal, send),
    answered: (callId, answer) => pending.get(callId)?.settle(answer),
    eventsHandled(sequence) {
      handledSequence = sequence;
      const ready = waitingAnswers.filter((waiting) => waiting.through <= sequence);
      if (ready.length === 0) return;
      waitingAnswers = waitingAnswers.filter((waiting) => waiting.through > sequence);
      for (const waiting of ready) waiting.settle();
    },
    rejectAll(error) {
      waitingAnswers = [];
      for (const call of [...pending.values()]) call.fail(error); // each removes itself
    },
  };
}
