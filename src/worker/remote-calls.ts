// Calls from the page to the worker: each settles from the plain-data outcome the worker answers
// with, or at once when its signal aborts or the node stops. Outcomes and events travel on
// different channels, which keep no order between them, so an outcome is held until the event
// batch it names has been handled (CallOutcome.eventsThrough): a resolved call is never ahead of
// the observables, metrics or committed streams it caused.
import { rebuildError } from './error-transfer.ts';
import type { CallOutcome } from './protocol.ts';

export interface RemoteCalls {
  /** Starts a call with a fresh id; `begin` sends it. Rejects at once if `stoppedBy()` is set. */
  call<T>(signal: AbortSignal | undefined, begin: (callId: number) => Promise<CallOutcome<T>>): Promise<T>;
  /** The page handled event batch `sequence`: answers waiting for it settle now. */
  eventsHandled(sequence: number): void;
  /** The node stopped: every pending call rejects with `error`. */
  rejectAll(error: Error): void;
}

export function createRemoteCalls(options: {
  readonly stoppedBy: () => Error | null;
  readonly abort: (callId: number) => void;
}): RemoteCalls {
  const pending = new Map<number, (error: Error) => void>();
  let nextCallId = 1;
  let handledSequence = 0;
  let waitingAnswers: Array<{ readonly through: number; readonly settle: () => void }> = [];

  const afterEvents = (through: number, settle: () => void): void => {
    if (through <= handledSequence) settle();
    else waitingAnswers.push({ through, settle });
  };

  return {
    call: <T>(signal: AbortSignal | undefined, begin: (callId: number) => Promise<CallOutcome<T>>) =>
      new Promise<T>((resolve, reject) => {
        const stoppedBy = options.stoppedBy();
        if (stoppedBy !== null) throw stoppedBy;
        signal?.throwIfAborted();
        const callId = nextCallId++;
        const finish = (): boolean => {
          signal?.removeEventListener('abort', onAbort);
          return pending.delete(callId);
        };
        const onAbort = (): void => {
          if (!finish()) return;
          options.abort(callId);
          reject(signal?.reason);
        };
        pending.set(callId, (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        });
        signal?.addEventListener('abort', onAbort, { once: true });
        begin(callId).then(
          (outcome) =>
            afterEvents(outcome.eventsThrough, () => {
              if (!finish()) return;
              if (outcome.type === 'ok') resolve(outcome.value);
              else reject(rebuildError(outcome.error));
            }),
          (error: unknown) => {
            if (finish()) reject(error);
          },
        );
      }),
    eventsHandled(sequence) {
      handledSequence = sequence;
      const ready = waitingAnswers.filter((waiting) => waiting.through <= sequence);
      if (ready.length === 0) return;
      waitingAnswers = waitingAnswers.filter((waiting) => waiting.through > sequence);
      for (const waiting of ready) waiting.settle();
    },
    rejectAll(error) {
      const rejections = [...pending.values()];
      pending.clear();
      waitingAnswers = [];
      for (const reject of rejections) reject(error);
    },
  };
}
