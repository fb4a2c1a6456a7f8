// "After the tasks queued now": a message posted to ourselves lands behind the messages already
// waiting (proposals from the page, frames from peers), so work deferred to it sees the whole
// burst at once. A microtask would run after each message instead: one batch per message.

export interface NextTaskScheduler {
  /** Runs the callback once after the queued tasks; repeated calls before then coalesce. */
  schedule(): void;
  close(): void;
}

export function createNextTaskScheduler(run: () => void): NextTaskScheduler {
  const channel = new MessageChannel();
  let scheduled = false;
  channel.port1.onmessage = () => {
    scheduled = false;
    run();
  };
  // Node only: a scheduled run must not keep a process alive on its own.
  (channel.port1 as { unref?: () => void }).unref?.();
  return {
    schedule() {
      if (scheduled) return;
      scheduled = true;
      channel.port2.postMessage(null);
    },
    close() {
      channel.port1.close();
      channel.port2.close();
    },
  };
}
