// "After the tasks queued now": a task of our own lands behind the tasks already waiting
// (proposals from the page, frames from peers), so work deferred to it sees the whole burst at
// once. A microtask would run after each message instead: one batch per message.
//
// The task comes from `scheduler.postTask` where there is one (Chromium, Firefox): it is queued
// on this thread's own scheduler, behind the tasks already waiting at the same priority. A
// message posted to a MessageChannel of our own does the same elsewhere (and in Node), but in
// Chromium every port message travels through the renderer's IPC thread, even to the posting
// thread itself: at light load on this machine that cost 0.3–0.5 ms per wake-up, once on every
// commit's path (the answer's event batch, bench:browser-diagnose --timeline).

export interface NextTaskScheduler {
  /** Runs the callback once after the queued tasks; repeated calls before then coalesce. */
  schedule(): void;
  close(): void;
}

/** What the scheduler needs of the platform's `scheduler.postTask` (injectable for tests). */
export type PostTask = (callback: () => void) => unknown;

/** The platform's `scheduler.postTask`, or null where there is none. */
export function platformPostTask(): PostTask | null {
  const scheduler = (globalThis as { scheduler?: { postTask?: unknown } }).scheduler;
  if (scheduler === undefined || typeof scheduler.postTask !== 'function') return null;
  const postTask = scheduler.postTask as (callback: () => void) => Promise<unknown>;
  return (callback) => postTask.call(scheduler, callback);
}

export function createNextTaskScheduler(run: () => void, postTask: PostTask | null = platformPostTask()): NextTaskScheduler {
  return postTask === null ? createChannelScheduler(run) : createPostTaskScheduler(run, postTask);
}

function createPostTaskScheduler(run: () => void, postTask: PostTask): NextTaskScheduler {
  let scheduled = false;
  let closed = false;
  const task = (): void => {
    scheduled = false;
    if (closed) return;
    try {
      run();
    } catch (error) {
      // Reported like an error in the port's message handler it replaces (an uncaught error,
      // which ends a worker's node), not as the rejection of the promise postTask returned.
      queueMicrotask(() => {
        throw error;
      });
    }
  };
  return {
    schedule() {
      if (scheduled || closed) return;
      scheduled = true;
      postTask(task);
    },
    close() {
      closed = true;
    },
  };
}

function createChannelScheduler(run: () => void): NextTaskScheduler {
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
