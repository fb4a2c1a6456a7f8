// The edge peer's lines while its signaling server cannot be reached (signaling-retry-log.ts).
import { describe, expect, it } from 'vitest';
import { createSignalingRetryLog } from './signaling-retry-log.ts';

describe('the edge peer while signaling is unreachable', () => {
  it('says the first failure at once, then one line per interval with the attempts since, and starts over once joined', () => {
    const lines: string[] = [];
    let now = 0;
    const retries = createSignalingRetryLog({ url: 'ws://127.0.0.1:8799', log: (line) => lines.push(line), now: () => now, intervalMs: 30_000 });
    const refused = 'the connection failed: connect ECONNREFUSED 127.0.0.1:8799';
    retries.retry({ attempt: 1, delayMs: 1_000, reason: refused });
    for (let attempt = 2; attempt <= 6; attempt += 1) {
      now += 5_000;
      retries.retry({ attempt, delayMs: 2_000, reason: refused });
    }
    now += 5_000; // 30 s after the first line
    retries.retry({ attempt: 7, delayMs: 16_000, reason: refused });
    expect(lines).toEqual([
      'signaling: attempt 1 failed: the connection failed: connect ECONNREFUSED 127.0.0.1:8799; retrying in 1.0 s (ws://127.0.0.1:8799)',
      'signaling: attempt 7 failed: the connection failed: connect ECONNREFUSED 127.0.0.1:8799 (5 more failed since the last line); retrying in 16.0 s (ws://127.0.0.1:8799)',
    ]);
    retries.joined();
    now += 1_000; // a new outage right after joining is said at once
    retries.retry({ attempt: 1, delayMs: 1_500, reason: 'the server went silent for 60000 ms' });
    expect(lines.at(-1)).toBe('signaling: attempt 1 failed: the server went silent for 60000 ms; retrying in 1.5 s (ws://127.0.0.1:8799)');
  });
});
