// Whether this peer's page is visible. Browsers throttle timers in hidden tabs (to once a second
// or less), which would make a hidden leader miss heartbeats and the room re-elect over and over,
// so a hidden leader hands leadership to a visible voter instead. Injectable for tests and for
// hosts with their own notion (a worker, an edge peer that is always "visible").
import { createWatchable, type Watchable, type WritableWatchable } from '../core/observable.ts';

export interface VisibilitySource {
  readonly visible: Watchable<boolean>;
  close(): void;
}

interface DocumentLike {
  readonly visibilityState: string;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

/** `document.visibilityState` and `visibilitychange`; always visible where there is no document. */
export function documentVisibility(): VisibilitySource {
  const document = (globalThis as { document?: DocumentLike }).document;
  if (document === undefined) return { visible: createWatchable(true), close: () => {} };
  const visible = createWatchable(document.visibilityState !== 'hidden');
  const onChange = (): void => visible.set(document.visibilityState !== 'hidden');
  document.addEventListener('visibilitychange', onChange);
  return { visible, close: () => document.removeEventListener('visibilitychange', onChange) };
}

/** A source the caller sets (tests, simulations, an always-on witness). */
export function manualVisibility(initial = true): VisibilitySource & { readonly visible: WritableWatchable<boolean> } {
  return { visible: createWatchable(initial), close: () => {} };
}
