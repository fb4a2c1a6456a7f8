// The leader's dedup cache on its hot path: one lookup and one remember per forwarded proposal
// (raft-core.ts handleForwardPropose). Client ids arrive as fresh strings, as the decoder makes one
// per frame, and requests rise per client, as followers' forwards do.
import { DedupKeyCache } from '../src/core/dedup-key-cache.ts';
import { clientId, type DedupKey } from '../src/core/types.ts';

export function leaderDedupCacheCost(forwards = 1_000_000, clients = 3, capacity = 16 * 1024): string {
  const names = Array.from({ length: clients }, (_, position) => `node-${position}-1f3e9c2b7a5d8e04`);
  const run = (): number => {
    const cache = new DedupKeyCache(capacity);
    const started = performance.now();
    for (let forward = 1; forward <= forwards; forward += 1) {
      // A new string with the same text each time, as decoding a frame gives.
      const key: DedupKey = { clientId: clientId(`${names[forward % clients] as string} `.trimEnd()), requestId: Math.ceil(forward / clients) };
      if (cache.get(key) === undefined) cache.remember(key, { index: forward, term: 1 });
    }
    return ((performance.now() - started) * 1000) / forwards;
  };
  run(); // warm-up: the JIT settles first
  const microseconds = [run(), run(), run()].sort((left, right) => left - right)[1] as number;
  return `${forwards.toLocaleString('en-US')} forwards from ${clients} clients, capacity ${capacity.toLocaleString('en-US')}: ${microseconds.toFixed(2)} µs per forward (lookup + remember, median of 3)`;
}
