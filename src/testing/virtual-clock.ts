// A virtual clock for deterministic tests: time moves only when the test says so, timers fire in
// time order (ties in the order they were set), and after each timer every promise continuation
// it caused runs before the next timer, so async storage and driver steps interleave exactly
// the same way on every run.
import type { Clock } from '../core/config.ts';

interface Timer {
  readonly handle: number;
  readonly at: number;
  readonly sequence: number;
  readonly fn: () => void;
}

/** Lets every queued microtask (and the macrotask-free chains they start) run to completion. */
export function drainMicrotasks(): Promise<void> {
  // setImmediate (Node) runs after every queued microtask; browsers have MessageChannel instead.
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  if (typeof immediate === 'function') return new Promise((resolve) => immediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

export class VirtualClock implements Clock {
  private current: number;
  private heap: Timer[] = [];
  private cancelled = new Set<number>();
  private nextHandle = 1;
  private sequence = 0;
  /** Called after each timer and its continuations (invariant checkers hook in here). */
  afterEvent: (() => void) | null = null;

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const handle = this.nextHandle++;
    this.push({ handle, at: this.current + Math.max(0, ms), sequence: this.sequence++, fn });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.cancelled.add(handle);
  }

  get pendingTimers(): number {
    return this.heap.length - this.cancelled.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    await drainMicrotasks();
    for (;;) {
      const next = this.popDue(end);
      if (next === null) break;
      this.current = Math.max(this.current, next.at);
      next.fn();
      await drainMicrotasks();
      this.afterEvent?.();
    }
    this.current = end;
  }

  /** Advances in steps until `predicate` holds or `timeoutMs` of virtual time passed. */
  async runUntil(predicate: () => boolean, options: { timeoutMs: number; stepMs?: number }): Promise<boolean> {
    const deadline = this.current + options.timeoutMs;
    const step = options.stepMs ?? 5;
    await drainMicrotasks();
    while (!predicate()) {
      if (this.current >= deadline) return false;
      await this.advance(Math.min(step, deadline - this.current));
    }
    return true;
  }

  private popDue(end: number): Timer | null {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > end) return null;
      this.removeTop();
      if (this.cancelled.delete(top.handle)) continue;
      return top;
    }
  }

  private before(left: Timer, right: Timer): boolean {
    return left.at < right.at || (left.at === right.at && left.sequence < right.sequence);
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let child = heap.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.before(heap[child] as Timer, heap[parent] as Timer)) break;
      [heap[child], heap[parent]] = [heap[parent] as Timer, heap[child] as Timer];
      child = parent;
    }
  }

  private removeTop(): void {
    const heap = this.heap;
    const last = heap.pop() as Timer;
    if (heap.length === 0) return;
    heap[0] = last;
    let parent = 0;
    for (;;) {
      const left = parent * 2 + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < heap.length && this.before(heap[left] as Timer, heap[smallest] as Timer)) smallest = left;
      if (right < heap.length && this.before(heap[right] as Timer, heap[smallest] as Timer)) smallest = right;
      if (smallest === parent) return;
      [heap[smallest], heap[parent]] = [heap[parent] as Timer, heap[smallest] as Timer];
      parent = smallest;
    }
  }
}
