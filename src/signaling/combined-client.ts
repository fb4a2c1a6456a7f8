// One SignalingClient over several: typically the WebSocket server AND a BroadcastChannel, so
// tabs of one origin still find each other when the server is down, and tabs in other browsers
// or devices are reached through the server when it is up.
//
// Routing: a signal to a peer goes through the FIRST client (in the order given) that lists the
// peer now. Both ends order their clients the same way (the same app code), so both pick the
// same route for a pair and one WebRTC negotiation never straddles two channels. Signals
// received on any client are delivered; `from` is still whatever that client admitted.
import { createEmitter, createWatchable } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import { samePeerSet, SignalingRefusedError, type ReceivedSignal, type SignalingClient } from './signaling-client.ts';

export function combineSignalingClients(clients: readonly SignalingClient[]): SignalingClient {
  const first = clients[0];
  if (first === undefined) throw new RangeError('combineSignalingClients needs at least one client');
  for (const client of clients) {
    if (client.selfId !== first.selfId || client.roomId !== first.roomId) {
      throw new RangeError('combined signaling clients must share one node id and one room');
    }
  }
  const union = (): ReadonlySet<NodeId> => new Set(clients.flatMap((client) => [...client.peers.value]));
  const peers = createWatchable<ReadonlySet<NodeId>>(union(), samePeerSet);
  const signals = createEmitter<ReceivedSignal>();
  // Ready once every client that can be not-ready is ready (a server that is down keeps this
  // false: room discovery then waits its bounded grace time, see discover-cluster.ts).
  const allReady = (): boolean => clients.every((client) => client.ready?.value ?? true);
  const ready = createWatchable(allReady());
  const unsubscribes = clients.flatMap((client) => [
    client.peers.subscribe(() => peers.set(union())),
    client.signals.subscribe((signal) => signals.emit(signal)),
    ...(client.ready === undefined ? [] : [client.ready.subscribe(() => ready.set(allReady()))]),
  ]);
  // It stops for good once every client has; the first non-null reason is reported. A refusal by
  // any one (a wrong room secret, our id taken over) stops them all at once: the others share the
  // secret and the id, and a room discovery waiting on the rest would never learn why nobody came.
  let refusedBy: ((reason: SignalingRefusedError) => void) | null = null;
  const refused = new Promise<SignalingRefusedError>((resolve) => (refusedBy = resolve));
  for (const client of clients) {
    client.closed.then(
      (reason) => {
        if (!(reason instanceof SignalingRefusedError)) return;
        refusedBy?.(reason);
        refusedBy = null;
        for (const other of clients) if (other !== client) other.close();
      },
      () => undefined, // a `closed` that rejects is reported through allClosed below
    );
  }
  const allClosed = Promise.all(clients.map((client) => client.closed)).then((reasons) => reasons.find((reason) => reason !== null) ?? null);
  const closed = Promise.race([refused, allClosed]);
  return {
    selfId: first.selfId,
    roomId: first.roomId,
    peers,
    signals,
    ready,
    signal(to, payload) {
      clients.find((client) => client.peers.value.has(to))?.signal(to, payload);
    },
    close() {
      for (const unsubscribe of unsubscribes) unsubscribe();
      for (const client of clients) client.close();
      // Unsubscribed first, so the clients' own emptying is not heard: said here, or a closed
      // combination would list its last peers (and be ready) for good.
      peers.set(new Set());
      ready.set(false);
    },
    closed,
  };
}
