// Freezing a page and its workers. The brief's way, CDP's Page.setWebLifecycleState 'frozen', does
// nothing to a visible page in this headless Chromium (156): no freeze event, timers keep firing,
// the page answers (found 2026-12-01 in the campaign's own histories: 4 of 4 freezes of a leader
// for 0.5–5 s cost no election, and calls on the "frozen" page completed in 100–300 ms; a probe page
// confirmed its timers kept ticking). So the page's workers (where the engine and its data
// channels live) are paused in the debugger instead — each stops at its next JavaScript statement
// (a timer, a message) and runs nothing until resumed — and the caller blocks the page's main
// thread for as long (Debugger.pause on the page itself makes Playwright report the page closed).
// To the rest of the cluster that is a frozen tab or a suspended laptop. The lifecycle state is
// still set, so a Chromium that honours it freezes the page that way too.
import type { CDPSession } from 'playwright';

interface WorkerReply {
  readonly id: number;
  readonly error?: { readonly message: string };
}

/** Freezes the page's workers now; thaw() resumes them. The caller blocks the main thread. */
export async function freezePage(session: CDPSession): Promise<{ thaw(): Promise<void>; workers: number }> {
  const workers: string[] = [];
  const waiting = new Map<number, (reply: WorkerReply) => void>();
  let nextId = 1;
  session.on('Target.attachedToTarget', (event) => {
    if (event.targetInfo.type === 'worker') workers.push(event.sessionId);
  });
  session.on('Target.receivedMessageFromTarget', (event) => {
    const reply = JSON.parse(event.message) as WorkerReply;
    waiting.get(reply.id)?.(reply);
    waiting.delete(reply.id);
  });
  // Attaching reports the workers that exist now (one event each, before the answer).
  await session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const toWorkers = (method: string): Promise<unknown> =>
    Promise.all(
      workers.map(async (sessionId) => {
        const id = nextId++;
        const reply = new Promise<WorkerReply>((resolve) => waiting.set(id, resolve));
        await session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) }).catch(() => {});
        // Bounded: a worker that ended meanwhile never answers.
        await Promise.race([reply, new Promise((resolve) => setTimeout(resolve, 2_000))]);
        waiting.delete(id);
      }),
    );
  await session.send('Page.setWebLifecycleState', { state: 'frozen' });
  await toWorkers('Debugger.enable');
  await toWorkers('Debugger.pause');
  return {
    workers: workers.length,
    async thaw() {
      await toWorkers('Debugger.resume');
      await session.send('Page.setWebLifecycleState', { state: 'active' }).catch(() => {});
      await session.detach().catch(() => {});
    },
  };
}
