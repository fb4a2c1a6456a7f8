import { describe, expect, it } from 'vitest';
import { defaultRunUntilTimeoutMs, VirtualClock } from './virtual-clock.ts';

describe('VirtualClock', () => {
  it('moves only when advanced, and fires due timers in time order at their own time', async () => {
    const clock = new VirtualClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 30);
    expect(clock.now()).toBe(100);
    await clock.advance(25);
    expect(fired).toEqual(['a@110', 'b@120']);
    expect(clock.now()).toBe(125);
    await clock.advance(5);
    expect(fired).toEqual(['a@110', 'b@120', 'c@130']);
  });

  it('breaks ties by the order the timers were set', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    for (let position = 0; position < 20; position += 1) clock.setTimeout(() => fired.push(position), 5);
    await clock.advance(5);
    expect(fired).toEqual(Array.from({ length: 20 }, (_, position) => position));
  });

  it('clearTimeout cancels; clearing twice or an unknown handle is harmless; pendingTimers counts live timers', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const first = clock.setTimeout(() => fired.push('first'), 10);
    clock.setTimeout(() => fired.push('second'), 10);
    expect(clock.pendingTimers).toBe(2);
    clock.clearTimeout(first);
    clock.clearTimeout(first);
    clock.clearTimeout(12345);
    clock.clearTimeout(undefined);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(10);
    expect(fired).toEqual(['second']);
    expect(clock.pendingTimers).toBe(0);
    clock.clearTimeout(first);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires timers set by a timer within the same advance when they fall due in it', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 0);
      clock.setTimeout(() => fired.push(clock.now()), 4);
      clock.setTimeout(() => fired.push(clock.now()), 50);
    }, 3);
    await clock.advance(10);
    expect(fired).toEqual([3, 3, 7]);
    expect(clock.pendingTimers).toBe(1);
  });

  it('runs every promise continuation a timer caused before the next timer fires', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    const slowChain = async (): Promise<void> => {
      for (let step = 0; step < 50; step += 1) await Promise.resolve();
      order.push('chain done');
    };
    clock.setTimeout(() => void slowChain(), 1);
    clock.setTimeout(() => order.push('next timer'), 1);
    await clock.advance(1);
    expect(order).toEqual(['chain done', 'next timer']);
  });

  it('calls afterEvent once per fired timer, after its continuations', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    let value = 0;
    clock.afterEvent = () => seen.push(`after ${value}`);
    clock.setTimeout(() => void Promise.resolve().then(() => (value = 1)), 1);
    clock.setTimeout(() => (value = 2), 2);
    await clock.advance(5);
    expect(seen).toEqual(['after 1', 'after 2']);
  });

  it('runUntil stops when the predicate holds, or reports false at the timeout', async () => {
    const clock = new VirtualClock();
    let flag = false;
    clock.setTimeout(() => (flag = true), 42);
    expect(await clock.runUntil(() => flag, { timeoutMs: 1_000 })).toBe(true);
    expect(clock.now()).toBeLessThanOrEqual(45);
    expect(await clock.runUntil(() => false, { timeoutMs: 100 })).toBe(false);
    expect(clock.now()).toBeGreaterThanOrEqual(142);
  });

  it('runUntil takes its timeout as a plain number too, or none (a bounded default)', async () => {
    const clock = new VirtualClock();
    let flag = false;
    clock.setTimeout(() => (flag = true), 42);
    expect(await clock.runUntil(() => flag)).toBe(true);
    expect(clock.now()).toBeLessThanOrEqual(45);
    expect(await clock.runUntil(() => false, 100)).toBe(false);
    expect(clock.now()).toBeGreaterThanOrEqual(142);
    const start = clock.now();
    expect(await clock.runUntil(() => false)).toBe(false);
    expect(clock.now() - start).toBe(defaultRunUntilTimeoutMs);
  });

  it('runUntil refuses a timeout or step that could never end the loop', async () => {
    const clock = new VirtualClock();
    await expect(clock.runUntil(() => false, Number.NaN)).rejects.toThrow(RangeError);
    await expect(clock.runUntil(() => false, { timeoutMs: 10, stepMs: 0 })).rejects.toThrow(RangeError);
  });

  it('refuses a negative advance and an advance while another runs', async () => {
    const clock = new VirtualClock();
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    const running = clock.advance(10);
    await expect(clock.advance(1)).rejects.toThrow(/already|another advance/);
    await running;
  });

  it('keeps thousands of timers in order and drops cleared ones', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const handles: unknown[] = [];
    // Deterministic pseudo-random delays, many ties.
    for (let position = 0; position < 5_000; position += 1) {
      const delay = (position * 7919) % 1_000;
      handles.push(clock.setTimeout(() => fired.push(delay), delay));
    }
    handles.forEach((handle, position) => {
      if (position % 5 !== 0) clock.clearTimeout(handle);
    });
    expect(clock.pendingTimers).toBe(1_000);
    await clock.advance(1_000);
    expect(fired.length).toBe(1_000);
    expect([...fired].sort((left, right) => left - right)).toEqual(fired);
  });

  describe("drain 'promiseContinuations' (the simulator's)", () => {
    it('still runs every promise continuation a timer caused, chains of chains included, before the next timer', async () => {
      const clock = new VirtualClock(0, { drain: 'promiseContinuations' });
      const order: string[] = [];
      const chain = async (label: string, depth: number): Promise<void> => {
        for (let step = 0; step < depth; step += 1) await Promise.resolve();
        order.push(label);
      };
      clock.setTimeout(() => void chain('short', 3).then(() => chain('chained after it', 40)), 1);
      clock.setTimeout(() => order.push('next timer'), 1);
      await clock.advance(1);
      expect(order).toEqual(['short', 'chained after it', 'next timer']);
    });

    it('gives the event loop a turn every 64 timers, so a long advance lets real timers and messages through', async () => {
      const clock = new VirtualClock(0, { drain: 'promiseContinuations' });
      let fired = 0;
      let firedWhenTurnCame: number | null = null;
      // Queued by the first timer, after the advance's opening turn: only a later turn runs it.
      clock.setTimeout(() => setImmediate(() => (firedWhenTurnCame = fired)), 0);
      for (let position = 0; position < 200; position += 1) clock.setTimeout(() => (fired += 1), position + 1);
      await clock.advance(201);
      expect(fired).toBe(200);
      expect(firedWhenTurnCame).not.toBeNull();
      expect(firedWhenTurnCame).toBeLessThan(64);
    });

    it('does not wait for process.nextTick callbacks queued by a continuation (the documented limit), where the default does', async () => {
      const run = async (drain: 'eventLoopTurn' | 'promiseContinuations'): Promise<string[]> => {
        const clock = new VirtualClock(0, { drain });
        const order: string[] = [];
        clock.setTimeout(() => void Promise.resolve().then(() => process.nextTick(() => void Promise.resolve().then(() => order.push('after a tick')))), 1);
        clock.setTimeout(() => order.push('next timer'), 1);
        await clock.advance(1);
        return order;
      };
      expect(await run('eventLoopTurn')).toEqual(['after a tick', 'next timer']);
      expect(await run('promiseContinuations')).toEqual(['next timer', 'after a tick']);
    });

    it('refuses an unknown drain', () => {
      expect(() => new VirtualClock(0, { drain: 'sometimes' as never })).toThrow(RangeError);
    });
  });
});
