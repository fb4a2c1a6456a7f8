// Listener errors are re-raised as unhandled rejections (loud, yet apart from the code that
// called the listener). A test that throws from a listener on purpose collects them here
// instead of letting them fail the run.

/** Runs `body`, returning the unhandled rejections raised meanwhile (Node's process event). */
export async function collectingRejections(body: () => Promise<void>): Promise<unknown[]> {
  const raised: unknown[] = [];
  const collect = (reason: unknown): void => void raised.push(reason);
  process.on('unhandledRejection', collect);
  try {
    await body();
    // Rejections are reported after the microtask queue drains: give them one macrotask.
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    process.off('unhandledRejection', collect);
  }
  return raised;
}
