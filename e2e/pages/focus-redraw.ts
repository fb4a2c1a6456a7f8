// The page of the replaceContent test in e2e/demo.spec.ts: the demo's own dom.ts redrawing a
// small board (an input, a button of its own, a remove button per task) as the demo does, so the
// test can press keys and click between redraws in a real browser, without a cluster. (The
// demo's vitest tests run in Node, with no DOM.)
import { h, replaceContent } from '../../demo/ui/dom.ts';

export interface FocusRedrawPage {
  /**
   * Replaces the board's content with one row per task id, in this order, and two scrolling
   * lists of `lines` lines: a chat that sticks to its end and a timeline that does not.
   */
  draw(taskIds: readonly string[], lines?: number): void;
  /** Each list's scrollTop, and how far its end is: scrollHeight - clientHeight. */
  scrolls(): Record<'chat' | 'timeline', { top: number; end: number }>;
  scrollTo(list: 'chat' | 'timeline', top: number): void;
  /** What has focus: its focus key (or "body"), and whether the browser shows a focus ring. */
  focused(): { key: string; visible: boolean };
  /** The buttons pressed so far, by their focus key. */
  pressed(): string[];
}

declare global {
  interface Window {
    focusRedraw: FocusRedrawPage;
  }
}

const board = document.getElementById('board')!;
const pressed: string[] = [];
const button = (key: string, label: string): HTMLElement => h('button', { 'data-focus-key': key, onclick: () => void pressed.push(key) }, label);

window.focusRedraw = {
  draw(taskIds, lines = 0) {
    const list = (key: string, sticksToEnd: boolean): HTMLElement =>
      h('ol', { 'data-scroll-key': key, 'data-scroll-end': sticksToEnd, style: 'max-height: 100px; overflow: auto' }, ...Array.from({ length: lines }, (_, line) => h('li', {}, `${key} line ${line}`)));
    const content = h(
      'div',
      {},
      h('input', { id: 'new-task', 'aria-label': 'new task' }),
      button('counter:+1', '+1'),
      h('ul', {}, ...taskIds.map((id) => h('li', {}, id, ' ', button(`task:${id}:remove`, `remove ${id}`)))),
      list('chat', true),
      list('timeline', false),
    );
    replaceContent(board, content);
  },
  scrolls() {
    const of = (key: string): { top: number; end: number } => {
      const element = board.querySelector<HTMLElement>(`[data-scroll-key="${key}"]`)!;
      return { top: Math.round(element.scrollTop), end: element.scrollHeight - element.clientHeight };
    };
    return { chat: of('chat'), timeline: of('timeline') };
  },
  scrollTo(list, top) {
    board.querySelector<HTMLElement>(`[data-scroll-key="${list}"]`)!.scrollTop = top;
  },
  focused() {
    const active = document.activeElement;
    if (!(active instanceof HTMLElement) || active === document.body) return { key: 'body', visible: false };
    return { key: active.dataset.focusKey ?? `#${active.id}`, visible: active.matches(':focus-visible') };
  },
  pressed: () => [...pressed],
};
window.focusRedraw.draw([]);
