// The collaborative board's state and its reducer: the things a CRDT cannot promise, because
// they need one order that every peer agrees on.
// - Tasks that exactly one person can claim: the first claim in log order wins, everywhere.
// - A counter that never loses an increment: each increment is one committed command.
// - Ordered chat: messages appear in log order on every peer.
// - A lock with a fencing token: every acquisition gets a strictly larger token, so a storage
//   service can refuse writes from a holder whose lock has since been taken over.
// The reducer is pure and deterministic and never mutates its input (the store folds pending
// commands over the confirmed state for the optimistic UI). Everything is bounded.

export interface Task {
  readonly id: string;
  readonly title: string;
  readonly claimedBy: string | null;
  readonly done: boolean;
}

export interface ChatMessage {
  readonly sequence: number;
  readonly author: string;
  readonly text: string;
}

export interface LockState {
  readonly holder: string | null;
  /** The token of the current (or last) acquisition; 0 before the first. */
  readonly fencingToken: number;
}

export interface BoardState {
  readonly tasks: readonly Task[];
  readonly counter: number;
  readonly chat: readonly ChatMessage[];
  readonly chatSequence: number;
  readonly lock: LockState;
  /** Commands the reducer refused, with why: shown to the person who sent them. */
  readonly refusals: number;
}

export type BoardCommand =
  | { readonly type: 'addTask'; readonly id: string; readonly title: string }
  | { readonly type: 'claimTask'; readonly id: string; readonly by: string }
  | { readonly type: 'releaseTask'; readonly id: string; readonly by: string }
  | { readonly type: 'completeTask'; readonly id: string; readonly by: string }
  | { readonly type: 'removeTask'; readonly id: string }
  | { readonly type: 'increment'; readonly amount: number }
  | { readonly type: 'say'; readonly author: string; readonly text: string }
  | { readonly type: 'acquireLock'; readonly by: string }
  | { readonly type: 'releaseLock'; readonly by: string; readonly fencingToken: number }
  /** Takes a held lock from a holder that may be gone, if it is still at `fromToken`: their token stops working. */
  | { readonly type: 'takeOverLock'; readonly by: string; readonly fromToken: number };

export const boardLimits = { maxTasks: 200, maxTitleLength: 200, maxChatMessages: 100, maxMessageLength: 500, maxNameLength: 64, maxIncrement: 1_000 } as const;

export const initialBoardState: BoardState = { tasks: [], counter: 0, chat: [], chatSequence: 0, lock: { holder: null, fencingToken: 0 }, refusals: 0 };

/** Thrown for a command that cannot apply; the store leaves the state unchanged and rejects the dispatch. */
export class BoardCommandRefused extends Error {
  override readonly name = 'BoardCommandRefused';
}

const refuse = (message: string): never => {
  throw new BoardCommandRefused(message);
};

function checkText(label: string, text: unknown, maximum: number): string {
  if (typeof text !== 'string' || text.trim().length === 0) return refuse(`${label} must not be empty`);
  if (text.length > maximum) return refuse(`${label} is longer than ${maximum} characters`);
  return text;
}

function findTask(state: BoardState, id: string): Task {
  return state.tasks.find((task) => task.id === id) ?? refuse(`there is no task ${id}`);
}

function replaceTask(state: BoardState, next: Task): BoardState {
  return { ...state, tasks: state.tasks.map((task) => (task.id === next.id ? next : task)) };
}

function applyTaskCommand(state: BoardState, command: Extract<BoardCommand, { id: string }>): BoardState {
  switch (command.type) {
    case 'addTask': {
      if (state.tasks.length >= boardLimits.maxTasks) refuse(`the board holds at most ${boardLimits.maxTasks} tasks`);
      if (state.tasks.some((task) => task.id === command.id)) refuse(`task ${command.id} exists already`);
      const title = checkText('a task title', command.title, boardLimits.maxTitleLength);
      return { ...state, tasks: [...state.tasks, { id: checkText('a task id', command.id, 64), title, claimedBy: null, done: false }] };
    }
    case 'claimTask': {
      const task = findTask(state, command.id);
      const by = checkText('a name', command.by, boardLimits.maxNameLength);
      if (task.claimedBy !== null) refuse(`task "${task.title}" is already claimed by ${task.claimedBy}`);
      return replaceTask(state, { ...task, claimedBy: by });
    }
    // `by` is checked as a name, and an unclaimed task refused first: a peer's command is JSON, and
    // `by: null` matched an unclaimed task's `claimedBy`, so it was completed with nobody claiming it.
    case 'releaseTask': {
      const task = findTask(state, command.id);
      const by = checkText('a name', command.by, boardLimits.maxNameLength);
      if (task.claimedBy === null) refuse(`"${task.title}" is not claimed`);
      if (task.claimedBy !== by) refuse(`only ${task.claimedBy ?? 'its claimant'} can release "${task.title}"`);
      return replaceTask(state, { ...task, claimedBy: null });
    }
    case 'completeTask': {
      const task = findTask(state, command.id);
      const by = checkText('a name', command.by, boardLimits.maxNameLength);
      if (task.claimedBy !== by) refuse(`claim "${task.title}" before completing it`);
      return replaceTask(state, { ...task, done: true });
    }
    case 'removeTask':
      findTask(state, command.id);
      return { ...state, tasks: state.tasks.filter((task) => task.id !== command.id) };
  }
}

export function applyBoardCommand(state: BoardState, command: BoardCommand): BoardState {
  switch (command.type) {
    case 'addTask':
    case 'claimTask':
    case 'releaseTask':
    case 'completeTask':
    case 'removeTask':
      return applyTaskCommand(state, command);
    case 'increment': {
      if (!Number.isSafeInteger(command.amount) || Math.abs(command.amount) > boardLimits.maxIncrement) refuse(`an increment must be an integer of at most ${boardLimits.maxIncrement}`);
      return { ...state, counter: state.counter + command.amount };
    }
    case 'say': {
      const author = checkText('a name', command.author, boardLimits.maxNameLength);
      const text = checkText('a message', command.text, boardLimits.maxMessageLength);
      const sequence = state.chatSequence + 1;
      const chat = [...state.chat, { sequence, author, text }].slice(-boardLimits.maxChatMessages);
      return { ...state, chat, chatSequence: sequence };
    }
    case 'acquireLock': {
      const by = checkText('a name', command.by, boardLimits.maxNameLength);
      if (state.lock.holder !== null && state.lock.holder !== by) refuse(`the lock is held by ${state.lock.holder}`);
      // Re-acquiring while holding also takes a new token: the old one must stop working.
      return { ...state, lock: { holder: by, fencingToken: state.lock.fencingToken + 1 } };
    }
    case 'takeOverLock': {
      const by = checkText('a name', command.by, boardLimits.maxNameLength);
      // Only from the acquisition its user saw: two takeovers of one holder, one wins.
      if (state.lock.holder === null || state.lock.fencingToken !== command.fromToken) {
        refuse(`the lock moved on from token ${command.fromToken} (it is at token ${state.lock.fencingToken}, held by ${state.lock.holder ?? 'nobody'})`);
      }
      return { ...state, lock: { holder: by, fencingToken: state.lock.fencingToken + 1 } };
    }
    case 'releaseLock': {
      // A name, like every `by`: `null` matched a free lock's holder (a harmless release, but not a command).
      checkText('a name', command.by, boardLimits.maxNameLength);
      if (state.lock.holder !== command.by || state.lock.fencingToken !== command.fencingToken) {
        refuse(`token ${command.fencingToken} of ${command.by} is stale (the lock is at token ${state.lock.fencingToken}, held by ${state.lock.holder ?? 'nobody'})`);
      }
      return { ...state, lock: { holder: null, fencingToken: state.lock.fencingToken } };
    }
    default:
      return refuse(`unknown command ${JSON.stringify((command as { type?: unknown }).type)}`);
  }
}
