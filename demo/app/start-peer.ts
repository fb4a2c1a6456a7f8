// Starts this page's peer: signaling (the server, and a BroadcastChannel so same-origin tabs
// still meet while the server is down) -> WebRTC transport -> the partition switch -> joinRoom
// with the engine and its IndexedDB storage in a Web Worker (the page never opens the database)
// -> the board's replicated store.
// joinRoom comes from raftmesh/rooms (src/rooms.ts), which has no engine of its own: the root's
// would bring a second engine onto this page, one that never runs.
import { nodeId, type NodeId, type Room } from 'raftmesh';
import { joinRoom } from 'raftmesh/rooms';
import { combineSignalingClients, createBroadcastChannelSignalingClient, createWebRtcTransport, createWebSocketSignalingClient, type WebRtcTransport } from 'raftmesh/webrtc';
import { workerNodeFactory } from 'raftmesh/worker';
import type { BoardCommand, BoardState } from '../board/board-state.ts';
import { shortId, type UnreachableReport } from './connection-banner.ts';
import { storeOptions } from '../board/store-options.ts';
import { createPartitionSwitch, type PartitionSwitch } from './partition-switch.ts';
import type { DemoSettings } from './settings.ts';
import { describeChangeFailure, describeDecision, type Wording } from './timeline-text.ts';
import { createTroubleNotes } from './trouble-notes.ts';
import { storeOutdatedNote } from './version-notes.ts';

export interface DemoPeer {
  /** `room.node` and `room.store` are replaced when the page rejoins under a fresh id: follow them with `room.follow`. */
  readonly room: Room<BoardState, BoardCommand>;
  /** One for the page's life, in front of whichever transport the room uses now. */
  readonly partition: PartitionSwitch;
}

const databaseNameFor = (room: string, id: NodeId): string => `demo:${room}:${id}`;

/** The banner's "Start anyway" choice: polled while discovery waits, forgotten on a rejoin under a fresh id. */
export interface StartAnywayChoice {
  chosen(): boolean;
  forget(): void;
}

export interface PeerHooks {
  /** Timeline notes; some come while the join runs (a lost storage), before the timeline exists. */
  readonly onEvent: (kind: 'membership' | 'error' | 'info', text: string | Wording) => void;
  /** Called from the start: discovery may wait for these peers. */
  readonly onUnreachable: (report: UnreachableReport) => void;
  /** Polled while discovery waits (the banner's "Start anyway"). */
  readonly startAnyway: StartAnywayChoice;
  /** Each WebRTC transport the room creates (one per id), from the start: its counters feed the banner. */
  readonly onTransport?: (transport: WebRtcTransport) => void;
}

export async function startPeer(settings: DemoSettings, hooks: PeerHooks): Promise<DemoPeer> {
  const { onEvent, onUnreachable, startAnyway } = hooks;
  const partition = createPartitionSwitch();
  const engine = workerNodeFactory({ storage: (id) => ({ type: 'indexeddb', name: databaseNameFor(settings.room, id), durability: 'strict' }) });
  const troubleNote = createTroubleNotes();
  const room = await joinRoom<BoardState, BoardCommand>({
    room: settings.room,
    ...(settings.witness === undefined ? {} : { witness: nodeId(settings.witness) }),
    ...(settings.secret === undefined ? {} : { secret: settings.secret }),
    ...(settings.unreachableAfterMs === undefined ? {} : { policy: { unreachableAfterMs: settings.unreachableAfterMs } }),
    // The context carries the claim that proves this tab's id to the server: passed on whole.
    signaling: (context) => combineSignalingClients([createBroadcastChannelSignalingClient(context), createWebSocketSignalingClient({ url: settings.signalingUrl, ...context })]),
    // The demo's choice, for tabs of one profile working offline: with the server down 5 s, a
    // newcomer that hears no tab starts a room (which splits from the room's members elsewhere,
    // if it has any: joinRoom's default is to wait for the server).
    offlineBootstrapAfterMs: 5_000,
    // The context carries the room secret (every peer proves it over every connection) and the
    // room's ear for peers that fail that check (`peerAuthenticationFailed` events): passed on whole.
    // The partition switch in front does not pass `usesSecret` on, so joinRoom cannot check the
    // secret itself here: the spread is what makes sure.
    createTransport: (signaling, context) => {
      const transport = createWebRtcTransport({ signaling, ...context, iceServers: [] });
      hooks.onTransport?.(transport);
      return partition.attach(transport);
    },
    // The engine and its IndexedDB storage in a worker (forwarding onMetric, identity and
    // raftConfig). No page-side `storage`: joinRoom asks the factory whether an id holds a log,
    // which it reads in a worker of its own, so this page never opens the database.
    createNode: engine,
    // An id given up (removed while this tab was closed, wedged, or its database lost) leaves a database of up to a
    // snapshot and ~11,000 entries behind: delete it (in a worker too). By then no connection to
    // it is open: the worker closes its own when the old node closes, and joinRoom discards only
    // after that.
    discardStorage: engine.discardStorage,
    // ?version= runs this page as a later release of the board (the same reducer): settings.ts.
    store: settings.boardVersion === undefined ? storeOptions : { ...storeOptions, version: settings.boardVersion },
    startDespiteUnreachable: () => startAnyway.chosen(),
    onEvent: (event) => {
      switch (event.type) {
        case 'membershipChanged':
          onEvent('membership', describeDecision(event.decision));
          break;
        case 'membershipChangeFailed': {
          const failure = describeChangeFailure(event.decision, event.reason);
          onEvent(failure.kind, failure.wording);
          break;
        }
        case 'leadershipHandoffStarted':
          onEvent('membership', (nameOf) => `this tab is hidden: handing leadership to ${nameOf(event.target)}`);
          break;
        case 'rejoined':
          startAnyway.forget();
          onEvent('info', `this tab rejoined the room as ${shortId(event.id)}, a fresh id (its old id ${shortId(event.previousId)} was wedged)`);
          break;
        case 'removed':
          onEvent('membership', (nameOf) => `the room removed this tab while it was unreachable (${event.toldBy === null ? 'its log says so' : `${nameOf(event.toldBy)} said so`}); it is taken back once reachable`);
          break;
        case 'wedged':
          onEvent('info', (nameOf) => `this tab's node keeps refusing ${nameOf(event.refusedFrom)} (${event.gate}): it rejoins under a fresh id if that lasts (no other leader followed, the refusals going on) for a few seconds`);
          break;
        case 'rejoinFailed':
          onEvent('error', `rejoining under a fresh id failed: ${event.reason}`);
          break;
        case 'storageLost':
          onEvent('error', `the browser deleted this tab's database for ${shortId(event.id)} as corrupt (a crash in the middle of a write can leave it so): that id must not vote again, so this tab joins as a newcomer under a fresh id and catches up from the others`);
          break;
        case 'storageDiscarded':
          if (event.failure === null) onEvent('info', `deleted the storage of ${shortId(event.id)}, an id this tab gave up`);
          else onEvent('error', `could not delete the storage of ${shortId(event.id)}, an id this tab gave up: ${event.failure}`);
          break;
        case 'peersUnreachable':
          onUnreachable({ count: event.count, peers: event.peers, waiting: event.waiting, deferringTo: event.deferringTo });
          break;
        case 'storeOutdated':
          onEvent('error', storeOutdatedNote(event));
          break;
        case 'signalingRetry':
        case 'peerAuthenticationFailed': {
          const note = troubleNote(event);
          if (note !== null) onEvent('error', note);
          break;
        }
        default:
          break;
      }
    },
  });
  return { room, partition };
}
