// Whether this peer's page is visible, and when it goes away for good. Browsers throttle timers in
// hidden tabs (to once a second or less), which would make a hidden leader miss heartbeats and the
// room re-elect over and over, so a hidden leader hands leadership to a visible voter instead. And
// a page that goes away has its connections torn down by the browser without a word: the room's
// other pages saw it connected, though silent, until their links timed out (an outside audit of
// the demo, 2026-12-04), so the room closes them itself when it hears the page is gone.
// Injectable for tests and for hosts with their own notion (a worker, an edge peer that is always
// "visible" and never goes).
import { createEmitter, createWatchable, type Subscribable, type Watchable, type WritableWatchable } from '../core/observable.ts';

export interface VisibilitySource {
  readonly visible: Watchable<boolean>;
  /**
   * Announced when the page goes away for good (`pagehide` for a page not kept in the
   * back/forward cache): the room closes its connections and its signaling client at once, so
   * its peers see it leave instead of a silent member. Optional: a source without it is never gone.
   */
  readonly gone?: Subscribable<void>;
  close(): void;
}

interface DocumentLike {
  readonly visibilityState: string;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

interface WindowLike {
  addEventListener(type: 'pagehide', listener: (event: { readonly persisted?: boolean }) => void): void;
  removeEventListener(type: 'pagehide', listener: (event: { readonly persisted?: boolean }) => void): void;
}

/**
 * `document.visibilityState` and `visibilitychange`, and `pagehide` (not persisted) as `gone`;
 * always visible, and never gone, where there is no document.
 */
export function documentVisibility(): VisibilitySource {
  const scope = globalThis as { document?: DocumentLike; addEventListener?: unknown };
  const document = scope.document;
  if (document === undefined) return { visible: createWatchable(true), close: () => {} };
  const visible = createWatchable(document.visibilityState !== 'hidden');
  const onChange = (): void => visible.set(document.visibilityState !== 'hidden');
  document.addEventListener('visibilitychange', onChange);
  const gone = createEmitter<void>();
  // A page kept for the back/forward cache may be shown again: its room goes on.
  const onPageHide = (event: { readonly persisted?: boolean }): void => {
    if (event.persisted !== true) gone.emit();
  };
  const page = typeof scope.addEventListener === 'function' ? (globalThis as unknown as WindowLike) : null;
  page?.addEventListener('pagehide', onPageHide);
  return {
    visible,
    gone,
    close: () => {
      document.removeEventListener('visibilitychange', onChange);
      page?.removeEventListener('pagehide', onPageHide);
    },
  };
}

/** A source the caller sets (tests, simulations, an always-on witness); `goAway()` announces `gone`. */
export function manualVisibility(initial = true): VisibilitySource & { readonly visible: WritableWatchable<boolean>; goAway(): void } {
  const gone = createEmitter<void>();
  return { visible: createWatchable(initial), gone, goAway: () => gone.emit(), close: () => {} };
}
