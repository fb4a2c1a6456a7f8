// The board: tasks one person can claim, the counter, the ordered chat and the fenced lock.
// Every button dispatches a command through the replicated store; what it shows is the
// optimistic state (pending commands applied over the confirmed one, marked as pending).
// Each button has a `data-focus-key` naming its action and, in a task's row, the task: the board
// is redrawn several times a second, and the key is how a keyboard user's focus finds the same
// button again (dom.ts `replaceContent`). A button whose action changes (Claim, then Done) gets
// another key, so focus does not land on an action the user did not pick.
import type { BoardCommand, BoardState } from '../board/board-state.ts';
import { h } from './dom.ts';

export interface BoardActions {
  readonly me: string;
  dispatch(command: BoardCommand): void;
}

let taskCounter = 0;
const newTaskId = (): string => `t-${Date.now().toString(36)}-${(taskCounter += 1)}-${Math.random().toString(36).slice(2, 6)}`;

function inputValue(id: string): string {
  const input = document.getElementById(id);
  if (!(input instanceof HTMLInputElement)) return '';
  const value = input.value.trim();
  input.value = '';
  return value;
}

function tasksView(state: BoardState, actions: BoardActions): HTMLElement {
  const add = (event: Event): void => {
    event.preventDefault();
    const title = inputValue('new-task');
    if (title !== '') actions.dispatch({ type: 'addTask', id: newTaskId(), title });
  };
  return h(
    'section',
    { class: 'card tasks', 'data-testid': 'tasks' },
    h('h2', {}, 'Tasks ', h('small', {}, 'exactly one person can claim each')),
    h('form', { onsubmit: add }, h('input', { id: 'new-task', placeholder: 'A task to claim…', maxlength: 200, 'aria-label': 'new task' }), h('button', { type: 'submit', 'data-focus-key': 'task-add' }, 'Add')),
    h(
      'ul',
      {},
      ...state.tasks.map((task) =>
        h(
          'li',
          { class: task.done ? 'done' : task.claimedBy === actions.me ? 'mine' : '', 'data-task': task.id },
          h('span', { class: 'title' }, task.title),
          h('span', { class: 'claim' }, task.claimedBy === null ? 'unclaimed' : task.done ? `done by ${task.claimedBy}` : `claimed by ${task.claimedBy}`),
          task.claimedBy === null && h('button', { 'data-focus-key': `task:${task.id}:claim`, 'aria-label': `Claim “${task.title}”`, onclick: () => actions.dispatch({ type: 'claimTask', id: task.id, by: actions.me }) }, 'Claim'),
          task.claimedBy === actions.me && !task.done && h('button', { 'data-focus-key': `task:${task.id}:done`, 'aria-label': `Mark “${task.title}” done`, onclick: () => actions.dispatch({ type: 'completeTask', id: task.id, by: actions.me }) }, 'Done'),
          task.claimedBy === actions.me && !task.done && h('button', { 'data-focus-key': `task:${task.id}:release`, 'aria-label': `Release “${task.title}”`, onclick: () => actions.dispatch({ type: 'releaseTask', id: task.id, by: actions.me }) }, 'Release'),
          h('button', { class: 'quiet', title: 'remove', 'aria-label': `Remove “${task.title}”`, 'data-focus-key': `task:${task.id}:remove`, onclick: () => actions.dispatch({ type: 'removeTask', id: task.id }) }, '×'),
        ),
      ),
    ),
  );
}

function counterView(state: BoardState, actions: BoardActions): HTMLElement {
  return h(
    'section',
    { class: 'card counter', 'data-testid': 'counter' },
    h('h2', {}, 'Counter ', h('small', {}, 'never loses an increment')),
    h('output', { 'data-testid': 'counter-value' }, state.counter),
    h('div', { class: 'actions' }, h('button', { 'data-focus-key': 'counter:+1', onclick: () => actions.dispatch({ type: 'increment', amount: 1 }) }, '+1'), h('button', { 'data-focus-key': 'counter:+10', onclick: () => actions.dispatch({ type: 'increment', amount: 10 }) }, '+10')),
  );
}

/**
 * The lock's buttons take the second click of a double-click as nothing. It landed on the same
 * button (a second command, refused in red) or, once the first click had redrawn the board, on
 * the opposite one (Release where Take was: the lock taken and given straight back). +1 is not
 * guarded: fast clicks there are meant to count.
 */
const singleClick =
  (run: () => void) =>
  (event: Event): void => {
    if (event instanceof MouseEvent && event.detail > 1) return;
    run();
  };

function lockView(state: BoardState, actions: BoardActions): HTMLElement {
  const { holder, fencingToken } = state.lock;
  return h(
    'section',
    { class: 'card lock', 'data-testid': 'lock' },
    h('h2', {}, 'Lock ', h('small', {}, 'with a fencing token')),
    h('p', {}, holder === null ? 'free' : `held by ${holder}`, ' · token ', h('strong', {}, fencingToken)),
    holder === null && h('button', { 'data-focus-key': 'lock:take', onclick: singleClick(() => actions.dispatch({ type: 'acquireLock', by: actions.me })) }, 'Take the lock'),
    holder === actions.me && h('button', { 'data-focus-key': 'lock:release', onclick: singleClick(() => actions.dispatch({ type: 'releaseLock', by: actions.me, fencingToken })) }, `Release (token ${fencingToken})`),
    // A holder whose tab closed never releases: someone must be able to take over, and the
    // fencing token is what makes that safe (the old holder's token ${fencingToken} stops working).
    holder !== null &&
      holder !== actions.me &&
      h('button', { 'data-focus-key': 'lock:take-over', title: `if ${holder} is gone: token ${fencingToken} stops working, a storage that checks tokens refuses it`, onclick: singleClick(() => actions.dispatch({ type: 'takeOverLock', by: actions.me, fromToken: fencingToken })) }, `Take over (token ${fencingToken + 1})`),
  );
}

function chatView(state: BoardState, actions: BoardActions): HTMLElement {
  const send = (event: Event): void => {
    event.preventDefault();
    const text = inputValue('chat-text');
    if (text !== '') actions.dispatch({ type: 'say', author: actions.me, text });
  };
  return h(
    'section',
    { class: 'card chat', 'data-testid': 'chat' },
    h('h2', {}, 'Chat ', h('small', {}, 'one order for everyone')),
    h('ol', { 'data-scroll-key': 'chat', 'data-scroll-end': true }, ...state.chat.map((message) => h('li', {}, h('b', {}, message.author), ' ', message.text))),
    h('form', { onsubmit: send }, h('input', { id: 'chat-text', placeholder: 'Say something…', maxlength: 500, 'aria-label': 'message' }), h('button', { type: 'submit', 'data-focus-key': 'chat-send' }, 'Send')),
  );
}

/**
 * `confirmedNothingYet`: this page has not learned of any commit since it loaded (no leader yet):
 * a reloaded page shows an empty board until then, which read as data lost (an outside audit).
 */
export function boardView(state: BoardState, pending: number, confirmedNothingYet: boolean, actions: BoardActions): HTMLElement {
  const nothingYet = 'waiting to hear from the cluster what is committed';
  const waiting = pending > 0 ? `${pending} change${pending === 1 ? '' : 's'} waiting for the cluster to agree…` : confirmedNothingYet ? `${nothingYet}…` : '';
  const waitingInFull = pending === 0 && confirmedNothingYet ? `${nothingYet}: what this device holds shows once a majority confirms it` : waiting;
  return h(
    'div',
    { class: 'board' },
    // Always there, empty when nothing waits: a line that came and went moved the board under the
    // pointer, and fast clicks on +1 landed on the counter instead (an outside audit). It is one
    // line at any width (cut with an ellipsis, whole in its title) for the same reason: a wrapped
    // line moved the board when it went.
    h('p', { class: 'pending', 'aria-live': 'polite', title: waitingInFull === '' ? undefined : waitingInFull }, waiting),
    tasksView(state, actions),
    h('div', { class: 'column' }, counterView(state, actions), lockView(state, actions)),
    chatView(state, actions),
  );
}
