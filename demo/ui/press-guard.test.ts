import { describe, expect, it } from 'vitest';
import { guardPresses, maxHoldMs } from './press-guard.ts';

/** A window stand-in, a clock and a task queue the test runs by hand. */
function page() {
  const target = new EventTarget();
  const clock = { ms: 0 };
  const tasks: (() => void)[] = [];
  const guard = guardPresses({ target, now: () => clock.ms, later: (run) => void tasks.push(run) });
  const fire = (type: string): boolean => target.dispatchEvent(new Event(type));
  const runTasks = (): void => {
    for (const task of tasks.splice(0)) task();
  };
  return { guard, clock, fire, runTasks, tasks };
}

describe('holding redraws while a button is pressed', () => {
  it('runs a redraw asked for during a press once, in a task after the release (after its click)', () => {
    const { guard, fire, runTasks, tasks } = page();
    const drawn: string[] = [];
    const redraw = (): void => void drawn.push('drawn');
    fire('pointerdown');
    expect(guard.pressed()).toBe(true);
    guard.afterRelease(redraw);
    guard.afterRelease(redraw);
    runTasks();
    expect(drawn).toEqual([]);
    fire('pointerup');
    expect(guard.pressed()).toBe(false);
    // Not in the release's own handling: the click comes after it.
    expect(drawn).toEqual([]);
    expect(tasks).toHaveLength(1);
    runTasks();
    expect(drawn).toEqual(['drawn']);
  });

  it('lets a cancelled press, or a window losing focus, release it', () => {
    for (const release of ['pointercancel', 'blur']) {
      const { guard, fire, runTasks } = page();
      let drawn = 0;
      fire('pointerdown');
      guard.afterRelease(() => (drawn += 1));
      fire(release);
      runTasks();
      expect(drawn, release).toBe(1);
    }
  });

  it('holds nothing when no press is in progress, or once a press outlasts any click', () => {
    const { guard, clock, fire, runTasks } = page();
    let drawn = 0;
    guard.afterRelease(() => (drawn += 1));
    runTasks();
    expect(drawn).toBe(1);
    fire('pointerdown');
    clock.ms += maxHoldMs - 1;
    expect(guard.pressed()).toBe(true);
    clock.ms += 1;
    expect(guard.pressed()).toBe(false);
  });

  it('stops listening once stopped', () => {
    const { guard, fire } = page();
    guard.stop();
    fire('pointerdown');
    expect(guard.pressed()).toBe(false);
  });
});
