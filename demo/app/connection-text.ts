// The cluster panel's connection column in words. A silent member is shown with how long it has
// been silent ("silent 4 s"), since a number that keeps growing tells a reader that the peer is
// still quiet right now, and not that it missed one heartbeat a while ago.

/** How this page is connected to a member: a cluster row's connection cell (demo-model.ts). */
export interface MemberConnection {
  /** 'silent': connected, but this page has received nothing from it for `silentAfterMs` or more. */
  readonly connection: 'this page' | 'connected' | 'silent' | 'unreachable';
  /** How long this page has heard nothing from a silent member; null unless `connection` is 'silent'. */
  readonly silentForMs: number | null;
}

/** "4 s", "2 min", "3 h": whole units, rounded down, so the count never runs ahead of the clock. */
export function durationText(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1_000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h`;
}

/** 'this page', 'connected', 'silent 4 s' or 'unreachable'. */
export function connectionText(member: MemberConnection): string {
  if (member.connection === 'silent' && member.silentForMs !== null) return `silent ${durationText(member.silentForMs)}`;
  return member.connection;
}

/** The cell's tooltip: what each word means, since "connected" and "silent" can both hold for a peer's link. */
export function connectionExplanation(member: MemberConnection): string {
  switch (member.connection) {
    case 'this page':
      return 'this page';
    case 'connected':
      return 'a direct connection is open and this page is receiving from it';
    case 'silent':
      return `a direct connection is open, but this page has received nothing from it for ${durationText(member.silentForMs ?? 0)}: it may be cut off, frozen or closing`;
    case 'unreachable':
      return 'no direct connection to it';
  }
}

/**
 * The header's words for a signaling server this page cannot reach. Peers already connected keep
 * working without it (it only introduces them), so a page with peers says so: it used to say
 * "only this browser's tabs see these changes" while three separate browsers went on committing
 * together (an outside audit). This browser's tabs still find each other over BroadcastChannel,
 * so only other browsers wait for the server.
 */
export function signalingDownText(signalingUrl: string, connectedPeers: number): string {
  if (connectedPeers === 0) return `signaling server ${signalingUrl} unreachable: only this browser's tabs see these changes`;
  return `signaling server ${signalingUrl} unreachable: the ${connectedPeers} peer${connectedPeers === 1 ? '' : 's'} connected keep${connectedPeers === 1 ? 's' : ''} working with this page; pages in other browsers cannot join until it is back (this browser's tabs still can)`;
}
