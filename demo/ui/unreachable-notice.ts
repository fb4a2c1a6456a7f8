// The warning the page shows while signaling lists peers it cannot connect to (the room's
// `peersUnreachable` event). Without it a page that cannot reach the others would simply wait
// (or, if it has a cluster, commit without them) and nothing would say why.
import { h } from './dom.ts';

export interface UnreachableReport {
  readonly count: number;
  /** Short ids of at most a few of them (unreachable peers send no status gossip, so no names). */
  readonly peers: readonly string[];
  /** This page has no cluster yet: it waits for them rather than start a second one. */
  readonly waiting: boolean;
}

const shownIds = 3;

/** `startingAnyway`: the user pressed "Start anyway" and this page has not found its board yet. */
export function unreachableText(report: UnreachableReport, startingAnyway = false): string | null {
  if (report.count === 0) return null;
  const peers = report.count === 1 ? '1 peer' : `${report.count} peers`;
  const some = report.peers.slice(0, shownIds).map((id) => id.slice(0, 10)).join(', ');
  const named = `${some}${report.count > shownIds ? ', …' : ''}`;
  const advice = !report.waiting
    ? 'they are in the room (signaling lists them) but no direct connection forms, so they do not see these changes'
    : startingAnyway
      ? // Said, not just the button removed: the page may still take a moment (it joins a reachable page's new board, or starts one).
        'starting without them, as you chose…'
      : 'waiting for them before starting, so the room does not split into separate boards';
  return `Can't connect to ${peers} in this room (${named}) — ${advice}.`;
}

/**
 * The banner; while this page waits, with a "Start anyway" button (joinRoom's
 * `startDespiteUnreachable`) for a user who knows the others are not holding a board: the choice
 * that can split the room is the user's, and said so on the button's title. `onStartAnyway` null:
 * the user has chosen, and the banner says the page is starting without them.
 */
export function unreachableNotice(report: UnreachableReport, onStartAnyway: (() => void) | null): HTMLElement {
  const text = unreachableText(report, onStartAnyway === null);
  const button =
    report.waiting && text !== null && onStartAnyway !== null
      ? h('button', { type: 'button', 'data-testid': 'start-anyway', title: 'Start a new board without them. If one of them holds a board, this page will not see it.', onclick: onStartAnyway }, 'Start anyway')
      : null;
  return h('p', { class: 'unreachable-notice', 'data-testid': 'unreachable', role: 'status', hidden: text === null }, text ?? '', button === null ? null : ' ', button);
}
