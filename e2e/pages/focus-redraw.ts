// The page of the replaceContent test in e2e/demo.spec.ts: the demo's own dom.ts redrawing a
// small board (an input, a button of its own, a remove button per task) as the demo does, so the
// test can press keys and click between redraws in a real browser, without a cluster. (The
// demo's vitest tests run in Node, with no DOM.)
import { h, replaceContent } from '../../demo/ui/dom.ts';

export interface FocusRedrawPage {
  /** Replaces the board's content with one row per task id, in this order. */
  draw(taskIds: readonly string[]): void;
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
  draw(taskIds) {
    const content = h(
      'div',
      {},
      h('input', { id: 'new-task', 'aria-label': 'new task' }),
      button('counter:+1', '+1'),
      h('ul', {}, ...taskIds.map((id) => h('li', {}, id, ' ', button(`task:${id}:remove`, `remove ${id}`)))),
    );
    replaceContent(board, content);
  },
  focused() {
    const active = document.activeElement;
    if (!(active instanceof HTMLElement) || active === document.body) return { key: 'body', visible: false };
    return { key: active.dataset.focusKey ?? `#${active.id}`, visible: active.matches(':focus-visible') };
  },
  pressed: () => [...pressed],
};
window.focusRedraw.draw([]);
