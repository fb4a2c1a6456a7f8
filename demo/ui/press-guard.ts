// Holds the page's redraws while a button is being pressed. The demo redraws the board and the
// panel by replacing their elements (dom.ts `replaceContent`), several times a second: at every
// status gossip a page receives (each peer twice a second) and every second. A redraw between a
// press and its release replaces the pressed button, and the browser then fires no click at all
// (Chromium, measured 2026-12-02: press, replace, release: no click event anywhere). A person's
// press lasts about a tenth of a second, so in a room of three a good share of clicks did nothing,
// and the e2e test that presses "Disconnect this peer" failed now and then.
//
// No timer while nothing is pressed: a redraw asked for during a press is run once, just after
// the release (in a task of its own, so after the click the release produces). A press that
// never ends (its release went to another window) holds nothing after `maxHoldMs`.

/** Longer than any click; a press held longer is a drag or a stuck pointer, and the page redraws. */
export const maxHoldMs = 2_000;

export interface PressGuard {
  /** True from a press until its release (or `maxHoldMs`). */
  pressed(): boolean;
  /** Runs `redraw` after the press in progress is released; asked twice, it runs once. */
  afterRelease(redraw: () => void): void;
  stop(): void;
}

export interface PressGuardOptions {
  /** Where presses and releases arrive: the window (pointer events bubble up to it, and it is told of a lost focus). */
  readonly target: EventTarget;
  readonly now?: () => number;
  /** Runs a function in a task of its own (setTimeout 0 unless a test fakes it). */
  readonly later?: (run: () => void) => void;
}

export function guardPresses(options: PressGuardOptions): PressGuard {
  const now = options.now ?? (() => performance.now());
  const later = options.later ?? ((run: () => void) => void setTimeout(run, 0));
  let pressedAt: number | null = null;
  const waiting = new Set<() => void>();
  const press = (): void => {
    pressedAt = now();
  };
  const release = (): void => {
    if (pressedAt === null) return;
    pressedAt = null;
    if (waiting.size === 0) return;
    // After the click this release is part of: a redraw in the release's own handling would
    // replace the button before the click reaches it.
    later(() => {
      const redraws = [...waiting];
      waiting.clear();
      for (const redraw of redraws) redraw();
    });
  };
  const releases = ['pointerup', 'pointercancel'];
  options.target.addEventListener('pointerdown', press, { capture: true });
  for (const type of releases) options.target.addEventListener(type, release, { capture: true });
  // The window's own blur only (not captured): an element's blur, as when the press takes the
  // focus from an input, reaches a capturing listener too, and ended the press it is part of.
  options.target.addEventListener('blur', release);
  const pressed = (): boolean => pressedAt !== null && now() - pressedAt < maxHoldMs;
  return {
    pressed,
    afterRelease(redraw) {
      if (pressed()) waiting.add(redraw);
      else later(redraw);
    },
    stop() {
      options.target.removeEventListener('pointerdown', press, { capture: true });
      for (const type of releases) options.target.removeEventListener(type, release, { capture: true });
      options.target.removeEventListener('blur', release);
      waiting.clear();
    },
  };
}
