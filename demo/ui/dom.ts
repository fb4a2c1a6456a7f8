// A tiny element builder: the demo renders plain DOM (no framework) so it shows raftmesh, not a
// UI library. Children that are null or false are skipped; strings become text nodes (never
// HTML), so peer-supplied text cannot inject markup.
type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | ((event: Event) => void) | undefined>;

export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * What names a control across redraws: its `data-focus-key` (one action on one thing, such as
 * `task:<id>:claim`), else an input's id. A redraw builds new elements, so the element itself
 * cannot be kept; a key that names what the control does can.
 */
function focusKeyOf(element: Element): string | null {
  if (element instanceof HTMLElement && element.dataset.focusKey !== undefined) return element.dataset.focusKey;
  return element instanceof HTMLInputElement && element.id !== '' ? `#${element.id}` : null;
}

/** Compared, not put in a selector: keys hold task ids, which other peers choose. */
function findByFocusKey(container: HTMLElement, key: string): HTMLElement | null {
  for (const element of container.querySelectorAll('[data-focus-key], input[id]')) {
    if (element instanceof HTMLElement && focusKeyOf(element) === key) return element;
  }
  return null;
}

/**
 * Where each scrolling list (`data-scroll-key`) was scrolled to, and whether it was at its end.
 * A redraw builds the lists anew, at the top: the chat and the timeline snapped back several
 * times a second and could not be scrolled at all (an outside audit).
 */
function scrollStatesIn(container: HTMLElement): Map<string, { readonly top: number; readonly atEnd: boolean }> {
  const states = new Map<string, { top: number; atEnd: boolean }>();
  for (const element of container.querySelectorAll<HTMLElement>('[data-scroll-key]')) {
    states.set(element.dataset.scrollKey ?? '', { top: element.scrollTop, atEnd: element.scrollHeight - element.scrollTop - element.clientHeight < 2 });
  }
  return states;
}

/**
 * Puts each list back where it was; one that was at its end (or is new) and sticks to its end
 * (`data-scroll-end`, the chat: newest last) follows it, so a new message shows.
 */
function restoreScroll(container: HTMLElement, states: ReadonlyMap<string, { readonly top: number; readonly atEnd: boolean }>): void {
  for (const element of container.querySelectorAll<HTMLElement>('[data-scroll-key]')) {
    const state = states.get(element.dataset.scrollKey ?? '');
    const sticksToEnd = element.dataset.scrollEnd !== undefined;
    if (sticksToEnd && (state === undefined || state.atEnd)) element.scrollTop = element.scrollHeight;
    else if (state !== undefined) element.scrollTop = state.top;
  }
}

interface FocusState {
  readonly key: string;
  /** Whether the browser showed a focus ring: kept for a keyboard user, not added after a mouse click. */
  readonly visible: boolean;
  readonly selection: readonly [number, number, 'forward' | 'backward' | 'none'] | null;
}

function focusStateIn(container: HTMLElement): FocusState | null {
  const active = document.activeElement;
  if (active === null || !container.contains(active)) return null;
  const key = focusKeyOf(active);
  if (key === null) return null;
  const selection = active instanceof HTMLInputElement && active.selectionStart !== null && active.selectionEnd !== null ? ([active.selectionStart, active.selectionEnd, active.selectionDirection ?? 'none'] as const) : null;
  return { key, visible: active.matches(':focus-visible'), selection };
}

/**
 * Replaces a container's content, keeping keyboard focus on the control with the same focus key
 * (and the caret in an input), and typed text in inputs that have an id. The demo redraws several
 * times a second; without this a keyboard user's focus went back to the page at every redraw.
 * A focused control that is gone after the redraw (its task was deleted, a claimed task's "Claim")
 * leaves nothing focused: moving focus to some other control could make the next Enter do
 * something the user did not aim at.
 */
export function replaceContent(container: HTMLElement, content: Node): void {
  const focused = focusStateIn(container);
  const typed = new Map<string, string>();
  for (const input of container.querySelectorAll('input[id]')) typed.set(input.id, (input as HTMLInputElement).value);
  const scrolled = scrollStatesIn(container);
  container.replaceChildren(content);
  for (const [id, value] of typed) {
    const input = container.querySelector(`#${CSS.escape(id)}`);
    if (input instanceof HTMLInputElement) input.value = value;
  }
  restoreScroll(container, scrolled);
  if (focused === null) return;
  const target = findByFocusKey(container, focused.key);
  if (target === null) return;
  // No scrolling: a user who scrolled away from the focused control is not pulled back to it.
  target.focus({ preventScroll: true, focusVisible: focused.visible });
  if (focused.selection !== null && target instanceof HTMLInputElement) target.setSelectionRange(...focused.selection);
}
