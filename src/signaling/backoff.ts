// Reconnect delays: exponential from a minimum, capped, with full jitter so a room full of
// clients cut off by one server restart does not come back as a synchronized stampede.
export function reconnectDelayMs(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.max(minMs, Math.floor(random() * ceiling));
}
