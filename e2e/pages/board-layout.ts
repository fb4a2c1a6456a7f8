// The page of the board-layout tests in e2e/demo.spec.ts: the demo's own board and cluster panel,
// drawn with the demo's styles and no cluster, so the test can measure where the controls sit
// as the line above the board changes, and click them as a person would (the demo's vitest
// tests run in Node, with no layout and no pointer).
import { applyBoardCommand, initialBoardState, type BoardCommand, type BoardState } from '../../demo/board/board-state.ts';
import { boardView, type BoardActions } from '../../demo/ui/board-view.ts';
import { clusterPanel } from '../../demo/ui/cluster-panel.ts';
import { h, replaceContent } from '../../demo/ui/dom.ts';

export interface BoardLayoutPage {
  /** Draws the board with this many changes pending, then returns the +1 button's top edge (px). */
  plusOneTop(pending: number, confirmedNothingYet: boolean): number;
  /**
   * Draws a board whose lock `holder` holds at `fencingToken`, as Ana's page. Each command a
   * button dispatches is applied at once, as the demo's optimistic state does, and the board
   * redrawn in a task of its own, as the demo's redraw after a release is.
   */
  lockBoard(holder: string | null, fencingToken: number): void;
  /** The commands the buttons dispatched since `lockBoard`. */
  dispatched(): BoardCommand[];
}

declare global {
  interface Window {
    boardLayout: BoardLayoutPage;
  }
}

const main = document.getElementById('main')!;
const actions = { me: 'Ana', dispatch: () => undefined };
let dispatched: BoardCommand[] = [];
const panelActions = { connected: true, onlyVoter: false, canTransfer: false, join: null, transferTo: () => undefined, setConnected: () => undefined };

/** The demo's layout: its board beside an empty cluster panel. */
const drawBoard = (state: BoardState, pending: number, confirmedNothingYet: boolean, boardActions: BoardActions): void =>
  replaceContent(main, h('div', { class: 'layout' }, boardView(state, pending, confirmedNothingYet, boardActions), clusterPanel([], [], [], panelActions)));

window.boardLayout = {
  plusOneTop(pending, confirmedNothingYet) {
    drawBoard(initialBoardState, pending, confirmedNothingYet, actions);
    return main.querySelector('[data-focus-key="counter:+1"]')!.getBoundingClientRect().top;
  },
  lockBoard(holder, fencingToken) {
    dispatched = [];
    let state: BoardState = { ...initialBoardState, lock: { holder, fencingToken } };
    const draw = (): void => drawBoard(state, 0, false, optimistic);
    const optimistic: BoardActions = {
      me: 'Ana',
      dispatch(command: BoardCommand) {
        dispatched.push(command);
        state = applyBoardCommand(state, command);
        setTimeout(draw, 0);
      },
    };
    draw();
  },
  dispatched: () => [...dispatched],
};
