// Encode and decode throughput of AppendEntries batches: the codec must not be the bottleneck.
import { decodeMessage, encodeMessage } from '../src/codec/index.ts';
import type { AppendEntries } from '../src/core/messages.ts';
import { clientId, type LogEntry } from '../src/core/types.ts';
import { formatNumber } from './statistics.ts';

function batch(count: number): AppendEntries {
  const owner = clientId('node-1-0123456789abcdef');
  const entries: LogEntry[] = Array.from({ length: count }, (_, position) => ({ index: 1_001 + position, term: 7, command: new Uint8Array(100).fill(position % 256), isNoOp: false, dedupKey: { clientId: owner, requestId: 5_000 + position } }));
  return { type: 'appendEntries', term: 7, prevLogIndex: 1_000, prevLogTerm: 7, entries, leaderCommit: 1_000, readRound: 0 };
}

function timeIt(iterations: number, work: () => void): number {
  for (let warm = 0; warm < Math.min(200, iterations); warm += 1) work();
  const started = performance.now();
  for (let iteration = 0; iteration < iterations; iteration += 1) work();
  return (performance.now() - started) / iterations;
}

export function runCodecBenchmark(): string[] {
  const lines = ['entries/frame   frame bytes   encode MB/s   encode entries/s   decode MB/s   decode entries/s'];
  for (const count of [100, 1_000]) {
    const message = batch(count);
    const frame = encodeMessage(message);
    const iterations = count === 100 ? 5_000 : 500;
    const encodeMs = timeIt(iterations, () => encodeMessage(message));
    const decodeMs = timeIt(iterations, () => {
      const decoded = decodeMessage(frame);
      if (!decoded.ok) throw new Error('benchmark frame failed to decode');
    });
    const megabytes = frame.length / 1_048_576;
    lines.push(
      `${String(count).padStart(13)}   ${String(frame.length).padStart(11)}   ${formatNumber(megabytes / (encodeMs / 1000), 0).padStart(11)}   ${formatNumber(count / (encodeMs / 1000)).padStart(16)}   ${formatNumber(megabytes / (decodeMs / 1000), 0).padStart(11)}   ${formatNumber(count / (decodeMs / 1000)).padStart(16)}`,
    );
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of runCodecBenchmark()) console.log(line);
