// The page of the board-layout test in e2e/demo.spec.ts: the demo's own board and cluster panel,
// drawn with the demo's styles and no cluster, so the test can measure where the controls sit
// as the line above the board changes (the demo's vitest tests run in Node, with no layout).
import { initialBoardState } from '../../demo/board/board-state.ts';
import { boardView } from '../../demo/ui/board-view.ts';
import { clusterPanel } from '../../demo/ui/cluster-panel.ts';
import { h, replaceContent } from '../../demo/ui/dom.ts';

export interface BoardLayoutPage {
  /** Draws the board with this many changes pending, then returns the +1 button's top edge (px). */
  plusOneTop(pending: number, confirmedNothingYet: boolean): number;
}

declare global {
  interface Window {
    boardLayout: BoardLayoutPage;
  }
}

const main = document.getElementById('main')!;
const actions = { me: 'Ana', dispatch: () => undefined };
const panelActions = { connected: true, onlyVoter: false, canTransfer: false, join: null, transferTo: () => undefined, setConnected: () => undefined };

window.boardLayout = {
  plusOneTop(pending, confirmedNothingYet) {
    replaceContent(main, h('div', { class: 'layout' }, boardView(initialBoardState, pending, confirmedNothingYet, actions), clusterPanel([], [], [], panelActions)));
    return main.querySelector('[data-focus-key="counter:+1"]')!.getBoundingClientRect().top;
  },
};
