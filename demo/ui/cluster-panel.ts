// The live cluster panel: a row per member (role, term, commit index, applied index, the version
// of the board its page runs, marked when its store stopped at a newer one, connection and lag;
// the leader highlighted), the controls (transfer leadership, disconnect/reconnect this
// peer) and the timeline of elections and membership changes, errors in words.
// The buttons have a `data-focus-key` (dom.ts `replaceContent` keeps a keyboard user's focus on
// them across redraws): a transfer button per target peer, and one key for disconnect/reconnect,
// a single toggle whose label says which way it goes next.
import { connectionExplanation, connectionText } from '../app/connection-text.ts';
import type { ClusterRow, TimelineEntry } from '../app/demo-model.ts';
import type { JoinHint } from '../app/join-hint.ts';
import type { PeerRelease } from '../app/peer-release.ts';
import { releaseExplanation, releaseText } from '../app/release-text.ts';
import { h } from './dom.ts';

export interface PanelActions {
  readonly connected: boolean;
  /** This peer is the cluster's only voter: cut off, it still commits on its own. */
  readonly onlyVoter: boolean;
  readonly canTransfer: boolean;
  /**
   * The address another window should open to join this room, when this page is alone in it (no
   * other member, nobody connected): a first-time user otherwise sees a one-row cluster and no
   * hint that the point is several windows (an outside audit). Null otherwise.
   */
  readonly join: JoinHint | null;
  transferTo(id: string): void;
  setConnected(connected: boolean): void;
}

/**
 * The version cell; on a member whose store stopped at a newer version, it says where and what it
 * needs, and carries `data-testid="peer-outdated"` (the row the class `outdated`).
 */
function releaseCell(release: PeerRelease | null): HTMLElement {
  return h('td', { 'data-release': release?.version ?? '', 'data-testid': release?.outdated ? 'peer-outdated' : undefined, title: releaseExplanation(release) }, releaseText(release));
}

function row(member: ClusterRow): HTMLElement {
  const classes = [member.isLeader ? 'leader' : '', member.self ? 'self' : '', member.connection === 'unreachable' || member.connection === 'silent' ? member.connection : '', member.release?.outdated ? 'outdated' : ''].join(' ');
  return h(
    'tr',
    { class: classes, 'data-peer': member.id },
    h('td', {}, member.isLeader ? '★ ' : '', member.name || member.id.slice(0, 10), member.self ? h('small', {}, ' (you)') : ''),
    h('td', {}, member.membership),
    h('td', { 'data-role': member.role }, member.role),
    h('td', {}, member.term ?? '–'),
    h('td', {}, member.commitIndex ?? '–'),
    h('td', {}, member.appliedIndex ?? '–'),
    releaseCell(member.release),
    h('td', { 'data-connection': member.connection, title: connectionExplanation(member) }, connectionText(member)),
    h('td', { class: 'lag' }, member.lag === null ? '–' : member.lag === 0 ? 'in sync' : `${member.lag} behind`),
  );
}

export function clusterPanel(rows: readonly ClusterRow[], timeline: readonly TimelineEntry[], errors: readonly string[], actions: PanelActions): HTMLElement {
  const targets = rows.filter((member) => !member.self && member.membership === 'voter' && member.connection === 'connected');
  return h(
    'aside',
    { class: 'panel', 'data-testid': 'cluster-panel' },
    h('h2', {}, 'Cluster'),
    // Nine columns of unbroken cells outgrow a narrow panel: the table scrolls inside it rather
    // than spilling over its edge.
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...['peer', 'member', 'role', 'term', 'commit', 'applied', 'version', 'connection', 'lag'].map((title) => h('th', {}, title)))),
        h('tbody', {}, ...rows.map(row)),
      ),
    ),
    h(
      'div',
      { class: 'controls' },
      actions.canTransfer && targets.length > 0 && h('span', {}, 'Transfer leadership to ', ...targets.map((target) => h('button', { 'data-focus-key': `transfer:${target.id}`, onclick: () => actions.transferTo(target.id) }, target.name || target.id.slice(0, 8)))),
      h('button', { 'data-testid': 'partition', 'data-focus-key': 'partition', class: actions.connected ? 'danger' : '', onclick: () => actions.setConnected(!actions.connected) }, actions.connected ? 'Disconnect this peer' : 'Reconnect this peer'),
    ),
    !actions.connected && !actions.onlyVoter && h('p', { class: 'warning' }, 'This peer is cut off: it cannot commit until it reconnects. Changes you make wait.'),
    !actions.connected && actions.onlyVoter && h('p', { class: 'warning' }, 'This peer is cut off, and it is the only voter: it still commits, but no other page sees these changes until it reconnects.'),
    actions.join !== null &&
      h('p', { class: 'hint', 'data-testid': 'alone' }, 'Only this page so far. Open ', h('a', { href: actions.join.address, target: '_blank', rel: 'noopener' }, actions.join.address), actions.join.thisBrowserOnly ? ' in another tab of this browser (other browsers find this page through the signaling server, which is down): the pages form one Raft cluster.' : ' in another window, tab or browser: the pages form one Raft cluster.'),
    errors.length > 0 && h('div', { class: 'errors', role: 'alert' }, ...errors.slice(-3).map((error) => h('p', {}, error))),
    h('h3', {}, 'Timeline'),
    h('ol', { class: 'timeline', 'data-scroll-key': 'timeline' }, ...timeline.slice(-40).reverse().map((entry) => h('li', { class: entry.kind }, h('time', {}, new Date(entry.at).toLocaleTimeString()), ' ', entry.text))),
  );
}
