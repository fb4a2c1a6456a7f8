// How many signals (offers, answers, candidates) a session takes from its peer: at most
// `maxSignalsPerAttempt` per attempt, where the attempt that opens the session is one and each
// ICE restart on it another (a restart takes a new offer, answer and candidates). Counted over the
// session's whole life, a long-lived connection ran out after enough restarts: the next restart's
// signals were dropped, ICE never recovered, and the connection was rebuilt.
//
// A restart starts afresh, but restarts are bounded too (`maxIceRestartsPerMinute`): the peer
// starts them (its offers) or asks for them (`ice-restart`), and so can anyone who signals under
// its id, who could otherwise have this side make or apply signals without end. Beyond the bound a
// restart is refused: ICE may still recover by itself, and if it does not, the session closes after
// `iceRestartTimeoutMs` and the next one starts with a fresh budget, as after any failed restart.
import type { Clock } from '../../core/config.ts';
import type { WebRtcTransportLimits } from './limits.ts';

export interface SignalBudget {
  /** One more signal from the peer for the current attempt: false once its share is spent (drop it). */
  take(): boolean;
  /** An ICE restart starts now, with a fresh share of signals: false (and no restart) beyond this minute's bound. */
  startRestart(): boolean;
}

const minuteMs = 60_000;

export function createSignalBudget(limits: Pick<WebRtcTransportLimits, 'maxSignalsPerAttempt' | 'maxIceRestartsPerMinute'>, clock: Clock): SignalBudget {
  let signals = 0;
  /** When the restarts of the last minute started, oldest first (at most maxIceRestartsPerMinute). */
  const restartsAtMs: number[] = [];
  return {
    take() {
      if (signals >= limits.maxSignalsPerAttempt) return false;
      signals++;
      return true;
    },
    startRestart() {
      const now = clock.now();
      while (restartsAtMs.length > 0 && now - (restartsAtMs[0] as number) >= minuteMs) restartsAtMs.shift();
      if (restartsAtMs.length >= limits.maxIceRestartsPerMinute) return false;
      restartsAtMs.push(now);
      signals = 0;
      return true;
    },
  };
}
