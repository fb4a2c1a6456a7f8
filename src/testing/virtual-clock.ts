// A virtual clock for deterministic tests: time moves only when the test says so, timers fire in
// time order (ties in the order they were set), and after each timer every promise continuation
// it caused runs before the next timer, so async storage and driver steps interleave exactly
// the same way on every run.
import type { Clock } from '../core/config.ts';

/**
 * A timer's handle: an object of this clock's own, so a handle from another clock (or a real
 * timer's number, in a browser) can never name one of this clock's timers.
 */
interface TimerHandle {
  readonly id: number;
}

interface Timer {
  readonly handle: TimerHandle;
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

/**
 * Lets every queued promise continuation run, without a turn of the event loop: resolves from
 * `process.nextTick`, whose queue Node runs once the microtask queue is empty. A chain that itself
 * goes through `process.nextTick` may be cut short, so only code that never uses it (the engine,
 * the driver and the simulator's storage and network: they run in browsers too) may be stepped
 * this way. Without `process` (a browser) it is drainMicrotasks.
 */
function drainPromiseContinuations(): Promise<void> {
  const nextTick = (globalThis as { process?: { nextTick?: (callback: () => void) => void } }).process?.nextTick;
  if (typeof nextTick !== 'function') return drainMicrotasks();
  return new Promise((resolve) => nextTick(resolve));
}

/**
 * How `advance` waits after each timer for what the timer caused:
 * - 'eventLoopTurn' (the default): a whole turn of the event loop (setImmediate), so callbacks
 *   queued with process.nextTick run too, and I/O that completed meanwhile is delivered;
 * - 'promiseContinuations': only promise continuations (see drainPromiseContinuations), with a
 *   turn of the event loop every `eventLoopTurnEvery` timers so the process stays responsive (test
 *   timeouts fire, messages arrive). A turn costs a system call, 3 µs on a slow host against
 *   0.35 µs for a tick (2026-12-07): a third of a simulation's time went to them.
 */
export type VirtualClockDrain = 'eventLoopTurn' | 'promiseContinuations';

/** With 'promiseContinuations', every this many timers `advance` still yields a turn of the event loop. */
const eventLoopTurnEvery = 64;

/** Virtual time runUntil waits at most when no timeout is given: ample for any election or commit. */
export const defaultRunUntilTimeoutMs = 60_000;

/**
 * A Clock for `RaftConfig.clock` whose time moves only inside `advance` and `runUntil`. A
 * promise that waits on one of its timers (a proposal, a read) therefore settles only while the
 * test runs the clock: awaited alone it waits forever, so run `runUntil(() => settled)` instead.
 */
export class VirtualClock implements Clock {
  private current: number;
  private heap: Timer[] = [];
  /** Handles set and neither fired nor cleared: clearing anything else is a no-op, so no leak. */
  private live = new Set<unknown>();
  private nextHandle = 1;
  private sequence = 0;
  private advancing = false;
  /** Called after each timer and its continuations (invariant checkers hook in here). */
  afterEvent: (() => void) | null = null;

  private readonly drain: VirtualClockDrain;
  private timersFired = 0;

  /**
   * `startMs`: the reading of now() before any advance (a finite number; default 0). `drain`: how
   * advance waits after each timer (VirtualClockDrain; default 'eventLoopTurn').
   */
  constructor(startMs = 0, options: { drain?: VirtualClockDrain } = {}) {
    // NaN would compare false against every deadline, so every timer would fire at once.
    if (!Number.isFinite(startMs)) throw new RangeError(`VirtualClock: startMs must be a finite number, got ${startMs}`);
    const drain = options.drain ?? 'eventLoopTurn';
    if (drain !== 'eventLoopTurn' && drain !== 'promiseContinuations') throw new RangeError(`VirtualClock: drain must be 'eventLoopTurn' or 'promiseContinuations', got ${String(drain)}`);
    this.current = startMs;
    this.drain = drain;
  }

  /** What advance waits for after a timer (see VirtualClockDrain). */
  private afterTimer(): Promise<void> {
    this.timersFired += 1;
    if (this.drain === 'eventLoopTurn' || this.timersFired % eventLoopTurnEvery === 0) return drainMicrotasks();
    return drainPromiseContinuations();
  }

  now(): number {
    return this.current;
  }

  /**
   * Calls `fn` once virtual time reaches now + `ms` (inside a later `advance` or `runUntil`, or
   * the one running now if it reaches that time). Like real timers, a negative, NaN or infinite
   * delay means "as soon as possible". Returns an opaque handle for `clearTimeout`.
   */
  setTimeout(fn: () => void, ms: number): unknown {
    // Refused here, where the caller's stack points at the mistake, not later inside advance.
    if (typeof fn !== 'function') throw new TypeError(`VirtualClock.setTimeout: the callback must be a function, got ${typeof fn}`);
    const handle: TimerHandle = { id: this.nextHandle++ };
    this.live.add(handle);
    const delay = Number.isFinite(ms) ? Math.max(0, ms) : 0;
    this.push({ handle, at: this.current + delay, sequence: this.sequence++, fn });
    return handle;
  }

  /** Cancels a pending timer; a fired, cleared, foreign or junk handle is ignored. */
  clearTimeout(handle: unknown): void {
    // A cleared timer stays in the heap and is skipped when it comes up (lazy deletion).
    if (this.live.delete(handle)) this.compactIfMostlyCleared();
  }

  /** Drops cleared timers once they outnumber live ones, so a clear-heavy workload stays small. */
  private compactIfMostlyCleared(): void {
    if (this.heap.length < 1024 || this.heap.length < 4 * this.live.size) return;
    // An array sorted by (time, sequence) is a valid min-heap.
    this.heap = this.heap.filter((timer) => this.live.has(timer.handle)).sort((left, right) => left.at - right.at || left.sequence - right.sequence);
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.live.size;
  }

  /**
   * Moves time forward by `ms` (finite, >= 0; else RangeError), firing every timer that falls due
   * on the way, timers set meanwhile included, each at its own time and followed by the promise
   * continuations it caused. A throwing timer rejects the advance (time stays at that timer).
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`VirtualClock.advance: ms must be a finite number >= 0, got ${ms}`);
    // Two interleaved advances would fire timers out of order: a test bug, so say so.
    if (this.advancing) throw new Error('VirtualClock.advance called while another advance is running');
    this.advancing = true;
    try {
      const end = this.current + ms;
      await drainMicrotasks();
      for (;;) {
        const next = this.popDue(end);
        if (next === null) break;
        this.current = Math.max(this.current, next.at);
        next.fn();
        await this.afterTimer();
        this.afterEvent?.();
      }
      this.current = Math.max(this.current, end);
    } finally {
      this.advancing = false;
    }
  }

  /**
   * Advances in steps until `predicate` holds (true) or `timeoutMs` of virtual time passed
   * (false). API.md names runUntil without its arguments, so the timeout may also be given as a
   * plain number, or left out (then defaultRunUntilTimeoutMs): a predicate that never holds
   * still ends, instead of spinning virtual time forever.
   */
  async runUntil(predicate: () => boolean, options: number | { timeoutMs?: number; stepMs?: number } = {}): Promise<boolean> {
    const { timeoutMs = defaultRunUntilTimeoutMs, stepMs: step = 5 } = typeof options === 'number' ? { timeoutMs: options } : options;
    if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`VirtualClock.runUntil: timeoutMs must be a finite number >= 0, got ${timeoutMs}`);
    // A step of 0 would never move time, so the loop would never reach its deadline.
    if (!(step > 0) || !Number.isFinite(step)) throw new RangeError(`VirtualClock.runUntil: stepMs must be a finite number > 0, got ${step}`);
    const deadline = this.current + timeoutMs;
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
      if (!this.live.delete(top.handle)) continue;
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
