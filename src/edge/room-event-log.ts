// The edge peer's log line for a room event. Most say their type and reason; three say more or
// nothing: a failed room-secret handshake names the peer (the one line an operator with a wrong
// --secret has to go on), an outdated store names the versions (the operator must restart the
// peer with the newer --app module), and a signaling retry is logged by the retry log already,
// which folds a run of identical failures into one line (signaling-retry-log.ts).
import type { RoomEvent } from './edge-imports.ts';

export function logRoomEvent(event: RoomEvent, log: (line: string) => void): void {
  switch (event.type) {
    case 'signalingRetry':
      return;
    case 'peerAuthenticationFailed':
      log(`room: peerAuthenticationFailed: ${event.peer} failed the room-secret handshake (${event.failures} ${event.failures === 1 ? 'time' : 'times'} since the last report), so it is not connected; it was given another --secret, or someone else signals under its id: ${event.reason}`);
      return;
    // The store stopped folding, not the node: the peer stays a member (it votes and stores), and
    // a restart with the newer --app module folds the log from the start again.
    case 'storeOutdated':
      log(`room: storeOutdated: entry ${event.index} of the room's log is of version ${event.seenVersion} of the application, newer than this peer's --app (version ${event.storeVersion}); its store folds nothing more until the peer restarts with the newer module (the node stays in the room)`);
      return;
    default:
      log(`room: ${event.type}${'reason' in event ? ` (${event.reason})` : ''}`);
  }
}
