// The runner's clock and bounded waits: every wait the harness makes has a bound, so a hung page
// becomes a recorded outcome, never a hung campaign.

const origin = performance.now();

/** Milliseconds since the campaign's process started (the history's time axis). */
export const elapsedMs = (): number => Math.round((performance.now() - origin) * 10) / 10;

export const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

export class TimeoutError extends Error {
  constructor(what: string, milliseconds: number) {
    super(`${what} did not finish within ${milliseconds} ms`);
    this.name = 'TimeoutError';
  }
}

/** The promise's result, or a TimeoutError after `milliseconds` (the promise keeps running). */
export function withTimeout<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, milliseconds)), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` every `intervalMs` until it returns true or `milliseconds` pass; true if it did. */
export async function waitFor(check: () => Promise<boolean>, milliseconds: number, intervalMs = 250): Promise<boolean> {
  const deadline = performance.now() + milliseconds;
  while (performance.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(intervalMs);
  }
  return false;
}
