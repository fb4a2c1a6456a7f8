// What the banner under the header says about this page's connections, and which of its changes
// the timeline notes. It is fed by the room's `peersUnreachable` events (peers signaling lists
// that the transport cannot reach), so a page that cannot connect says so instead of waiting, or
// committing without them, in silence.
//
// A page the user cut off with "Disconnect this peer" reaches nobody by design, and the room duly
// reports every other peer unreachable: until 2026-12-02 the banner then said "Can't connect to 2
// peers in this room (peer-8b50e, peer-d622a) — … no direct connection forms", blaming the network
// for what the user did, in raw ids. Now the page's own switch comes first: while it is off the
// banner says so; once it is back on, peers the last report names that are reachable again are
// left out (the room's next report, up to 250 ms later, leaves them out too); and peers are named
// by the names their status gossip gave, when this page ever heard one.
import type { NameOf, Wording } from './timeline-text.ts';

export interface UnreachableReport {
  readonly count: number;
  /** The ids of at most a few of them (joinRoom names up to 32). */
  readonly peers: readonly string[];
  /** This page has no cluster yet: it waits for them rather than start a second one. */
  readonly waiting: boolean;
  /**
   * While waiting: the reachable page whose user chose to start without them, and whose board this
   * page promised to join (the `peersUnreachable` event's `deferringTo`); "Start anyway" here would
   * change nothing.
   */
  readonly deferringTo?: string | null;
}

export type Banner =
  | { readonly type: 'none' }
  /** The user pressed "Disconnect this peer": the page sends and receives nothing. */
  | { readonly type: 'cut off' }
  /**
   * `startingAnyway`: the user pressed "Start anyway" and this page has not found its board yet.
   * `secretMismatch`: connections failed the room-secret check (one side has another secret).
   */
  | { readonly type: 'unreachable'; readonly report: UnreachableReport; readonly startingAnyway: boolean; readonly secretMismatch?: true };

export interface BannerInputs {
  /** The room's latest `peersUnreachable` report. */
  readonly report: UnreachableReport;
  readonly startingAnyway: boolean;
  /** The page's own switch (partition-switch.ts): false while the user has cut it off. */
  readonly connected: boolean;
  /** The peers the page reaches now (empty before it joined: nothing is left out then). */
  readonly reachable: ReadonlySet<string>;
  /** Connections whose peer failed the room-secret check so far (the transport's authenticationFailures). */
  readonly secretCheckFailures?: number;
}

export function bannerOf(inputs: BannerInputs): Banner {
  if (!inputs.connected) return { type: 'cut off' };
  const { report, reachable } = inputs;
  const peers = report.peers.filter((id) => !reachable.has(id));
  const count = report.count - (report.peers.length - peers.length);
  if (count <= 0) return { type: 'none' };
  // A failed proof is what a wrong secret looks like from either side: said so, rather than blamed
  // on the network (the page cannot tell which side has the wrong one).
  const secretMismatch = (inputs.secretCheckFailures ?? 0) > 0;
  return { type: 'unreachable', report: { count, peers, waiting: report.waiting, ...(report.waiting && report.deferringTo != null ? { deferringTo: report.deferringTo } : {}) }, startingAnyway: inputs.startingAnyway, ...(secretMismatch ? { secretMismatch: true as const } : {}) };
}

export const secretMismatchText = 'Connections failed the room-secret check: this page and those peers were given different secrets (?secret= in the URL).';

export const cutOffText = 'This page is disconnected: you pressed "Disconnect this peer", so it sends and receives nothing until you press "Reconnect this peer".';

const shownPeers = 3;
/**
 * An id as pages show it before a name arrives: `peer-` and 5 hex digits, after the `k` of a
 * claimed id (`peer-k…`), so the two shapes stay as distinct and the end-to-end check for raw
 * ids in the timeline (`peer-k?` and 5 hex digits) sees both.
 */
export const shortId = (id: string): string => id.slice(0, id.startsWith('peer-k') ? 11 : 10);

/** "Can't connect to 2 peers in this room (Bo, peer-d622a) — …", with names where this page knows them. */
export function unreachableText(report: UnreachableReport, startingAnyway: boolean, nameOf: NameOf = shortId): string {
  const peers = report.count === 1 ? '1 peer' : `${report.count} peers`;
  const some = report.peers.slice(0, shownPeers).map(nameOf);
  const named = some.length === 0 ? '' : ` (${some.join(', ')}${report.count > some.length ? ', …' : ''})`;
  const joining = report.deferringTo ?? null;
  const advice = !report.waiting
    ? 'they are in the room (signaling lists them) but no direct connection forms, so they do not see these changes'
    : joining !== null
      ? `${nameOf(joining)} chose to start a board without them; this page will join it…`
      : startingAnyway
      ? // Said, not just the button removed: the page may still take a moment (it joins a reachable page's new board, or starts one).
        'starting without them, as you chose…'
      : 'waiting for them before starting, so the room does not split into separate boards';
  return `Can't connect to ${peers} in this room${named} — ${advice}${advice.endsWith('…') ? '' : '.'}`;
}

/** The banner's text; null when it is hidden. */
export function bannerText(banner: Banner, nameOf: NameOf = shortId): string | null {
  switch (banner.type) {
    case 'none':
      return null;
    case 'cut off':
      return cutOffText;
    case 'unreachable':
      return `${unreachableText(banner.report, banner.startingAnyway, nameOf)}${banner.secretMismatch === true ? ` ${secretMismatchText}` : ''}`;
  }
}

/**
 * The timeline's notes of the banner: each change of what it says about unreachable peers, worded
 * when drawn (names may arrive later), and the moment every peer is reachable again. Nothing while
 * the page is cut off: the timeline notes the switch itself, and the peers the room then reports
 * are the switch's doing. A change of a name alone is no change.
 */
export function bannerNotes(note: (wording: Wording) => void): (banner: Banner) => void {
  let said = JSON.stringify({ type: 'none' });
  return (banner) => {
    if (banner.type === 'cut off') return;
    const key = JSON.stringify(banner);
    if (key === said) return;
    said = key;
    note(banner.type === 'unreachable' ? (nameOf) => bannerText(banner, nameOf) ?? '' : () => 'every peer in the room is reachable again');
  };
}
