// Polls a condition on real time until it holds (network tests: real WebRTC connections forming).
// `seen` describes the state on timeout, so a failure in CI says where the connection stopped.
export async function until(condition: () => boolean, what: string, timeoutMs = 15_000, seen?: () => string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms${seen === undefined ? '' : ` (${seen()})`}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
