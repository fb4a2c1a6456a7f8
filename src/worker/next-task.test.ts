// The next-task scheduler: one task per burst of schedule() calls, on the platform's
// scheduler.postTask where there is one (Chromium's port messages cross an IPC thread even to
// the posting thread), on a MessageChannel otherwise.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNextTaskScheduler, platformPostTask } from './next-task.ts';

/** A postTask that keeps its callbacks until the test runs them. */
function heldTasks(): { postTask: (callback: () => void) => void; runAll(): void; readonly waiting: number } {
  let tasks: Array<() => void> = [];
  return {
    postTask: (callback) => void tasks.push(callback),
    runAll() {
      const running = tasks;
      tasks = [];
      for (const task of running) task();
    },
    get waiting() {
      return tasks.length;
    },
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('createNextTaskScheduler with postTask', () => {
  it('posts one task for a burst of schedule() calls and runs the callback once in it', () => {
    const tasks = heldTasks();
    const run = vi.fn();
    const scheduler = createNextTaskScheduler(run, tasks.postTask);
    scheduler.schedule();
    scheduler.schedule();
    scheduler.schedule();
    expect(tasks.waiting).toBe(1);
    expect(run).not.toHaveBeenCalled();
    tasks.runAll();
    expect(run).toHaveBeenCalledTimes(1);
    scheduler.schedule();
    expect(tasks.waiting).toBe(1);
  });

  it('runs nothing once closed, even a task already posted', () => {
    const tasks = heldTasks();
    const run = vi.fn();
    const scheduler = createNextTaskScheduler(run, tasks.postTask);
    scheduler.schedule();
    scheduler.close();
    tasks.runAll();
    scheduler.schedule();
    expect(run).not.toHaveBeenCalled();
    expect(tasks.waiting).toBe(0);
  });

  it('reports an error of the callback as an uncaught error, as a message handler would, and goes on', async () => {
    const tasks = heldTasks();
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const failure = new Error('packing failed');
    let calls = 0;
    const scheduler = createNextTaskScheduler(() => {
      calls += 1;
      if (calls === 1) throw failure;
    }, tasks.postTask);
    try {
      scheduler.schedule();
      expect(() => tasks.runAll()).not.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(uncaught).toEqual([failure]);
      scheduler.schedule();
      tasks.runAll();
      expect(calls).toBe(2);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('uses the global scheduler.postTask by default where there is one', () => {
    const tasks = heldTasks();
    vi.stubGlobal('scheduler', { postTask: tasks.postTask });
    expect(platformPostTask()).not.toBeNull();
    const run = vi.fn();
    createNextTaskScheduler(run).schedule();
    expect(tasks.waiting).toBe(1);
    tasks.runAll();
    expect(run).toHaveBeenCalledTimes(1);
  });
});

describe('createNextTaskScheduler without postTask', () => {
  it('runs the callback once, after the microtasks queued with it', async () => {
    expect(platformPostTask()).toBeNull(); // Node has no scheduler.postTask
    const order: string[] = [];
    let resolveRan: () => void = () => {};
    const ran = new Promise<void>((resolve) => (resolveRan = resolve));
    const scheduler = createNextTaskScheduler(() => {
      order.push('task');
      resolveRan();
    });
    scheduler.schedule();
    scheduler.schedule();
    queueMicrotask(() => order.push('microtask'));
    await ran;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(order).toEqual(['microtask', 'task']);
    scheduler.close();
  });
});
