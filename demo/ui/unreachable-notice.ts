// The banner under the header (connection-banner.ts says what it says and why): that this page
// cannot reach peers signaling lists in the room, or that the user cut it off. Without it a page
// that cannot reach the others would simply wait (or, if it has a cluster, commit without them)
// and nothing would say why.
import { bannerText, type Banner } from '../app/connection-banner.ts';
import type { NameOf } from '../app/timeline-text.ts';
import { h } from './dom.ts';

/**
 * While this page waits for peers it cannot reach, with a "Start anyway" button (joinRoom's
 * `startDespiteUnreachable`) for a user who knows the others are not holding a board: the choice
 * that can split the room is the user's, and said so on the button's title. `onStartAnyway` null:
 * no button (the user has chosen, and the banner says the page is starting without them).
 */
export function unreachableNotice(banner: Banner, nameOf: NameOf, onStartAnyway: (() => void) | null): HTMLElement {
  const text = bannerText(banner, nameOf);
  const button =
    banner.type === 'unreachable' && banner.report.waiting && (banner.report.deferringTo ?? null) === null && !banner.startingAnyway && onStartAnyway !== null
      ? h('button', { type: 'button', 'data-testid': 'start-anyway', 'data-focus-key': 'start-anyway', title: 'Start a new board without them. If one of them holds a board, this page will not see it.', onclick: onStartAnyway }, 'Start anyway')
      : null;
  return h(
    'p',
    { class: `unreachable-notice ${banner.type === 'cut off' ? 'cut-off' : ''}`, 'data-testid': 'unreachable', 'data-banner': banner.type, role: 'status', hidden: text === null },
    text ?? '',
    button === null ? null : ' ',
    button,
  );
}
