// What a room reports about itself (joinRoom's `onEvent`): membership changes the leader made,
// hand-offs of a hidden leader, a wedged peer rejoining under a fresh id, the storage of an id
// given up being discarded, peers signaling lists that the transport cannot reach, why this
// peer cannot reach the room or its peers (signaling retrying, a peer failing the secret check),
// and a store that met a newer version of the application.
import type { NodeId } from '../core/types.ts';
import type { MembershipDecision } from './membership-policy.ts';

export type RoomEvent =
  | { readonly type: 'membershipChangeStarted'; readonly decision: MembershipDecision; readonly at: number }
  | { readonly type: 'membershipChanged'; readonly decision: MembershipDecision; readonly at: number }
  | { readonly type: 'membershipChangeFailed'; readonly decision: MembershipDecision; readonly reason: string; readonly at: number }
  | { readonly type: 'leadershipHandoffStarted'; readonly target: NodeId; readonly at: number }
  | { readonly type: 'leadershipHandoffFailed'; readonly target: NodeId; readonly reason: string; readonly at: number }
  /** The node keeps refusing the room's leader (its stored configuration is too old to know it). */
  | { readonly type: 'wedged'; readonly id: NodeId; readonly refusedFrom: NodeId; readonly gate: string; readonly voters: readonly NodeId[]; readonly at: number }
  /**
   * The room removed this peer while it ran (it was unreachable past the policy's window), and its
   * node learned it (`toldBy` the leader that answered it, or null when its own log holds the
   * change). Until the room admits it again (the policy takes a reachable peer back as a learner,
   * under the same id), its proposals and reads fail with NotMemberError, which the store's
   * dispatch and read retry.
   */
  | { readonly type: 'removed'; readonly id: NodeId; readonly toldBy: NodeId | null; readonly at: number }
  /**
   * This peer's node stopped for good while the room ran: `reason` is what stopped it (its storage
   * failed, RaftStorageError with a reason such as 'quotaExceeded' or 'databaseDeleted'; its worker
   * crashed; or `room.node.close()` was called other than by `room.leave()`). A node that answers
   * nobody must not look present, so the peer closed its connections and stopped its hellos: the
   * room replaces it like a member that left. `room.store` refuses new dispatches; `room.leave()`
   * still closes the rest, and a new joinRoom starts a node again (under a fresh id if its
   * storage lost what it held).
   */
  | { readonly type: 'nodeStopped'; readonly id: NodeId; readonly reason: string; readonly at: number }
  /** After a wedge: the peer left and joined again under a fresh id on empty storage (SPEC "Wedge"). */
  | { readonly type: 'rejoined'; readonly previousId: NodeId; readonly id: NodeId; readonly at: number }
  | { readonly type: 'rejoinFailed'; readonly reason: string; readonly at: number }
  /**
   * The storage of `id` lost what it held (a storage refused with RaftStorageError reason
   * 'dataLost': the browser deleted its IndexedDB database as corrupt, after a crash in the middle
   * of a write; or, in a browser tab on the default identity store, the browser deleted every
   * IndexedDB database of the site, the tab's saved identity with them, and `id` is the one it
   * had); `reason` is the storage's message, or says the latter. Acknowledged entries survive on the room's
   * other members, but this id must not run again, so the peer goes on under a fresh id on empty
   * storage, which the policy admits like any newcomer, and the old id's storage goes to
   * `discardStorage` when one is given (a `storageDiscarded` follows). With a fixed id the join
   * fails with the storage's error instead, after this event; so does a join whose third id in a
   * row is given up (joinRoom mints at most three per call), which keeps that id saved.
   */
  | { readonly type: 'storageLost'; readonly id: NodeId; readonly reason: string; readonly at: number }
  /**
   * An id this peer gave up for good (removed while away, found reused, wedged, or its storage lost) was handed to
   * `discardStorage`, once: `failure` is null when it finished, else what it threw (the join goes on).
   */
  | { readonly type: 'storageDiscarded'; readonly id: NodeId; readonly failure: string | null; readonly at: number }
  /**
   * The peers signaling lists in the room that the transport has not reached for a while (sorted,
   * at most 32 named; `count` is the total), sent whenever that set changes — `count: 0` once all
   * are reachable again. `waiting`: this peer has not found its cluster yet; it will not bootstrap
   * a cluster beside a peer it cannot reach (README "Rooms"), so it waits for them or for a member.
   * `deferringTo`: while waiting, the reachable peer whose user chose to start without them and
   * which this peer promised to join rather than start itself (its own "start anyway" then
   * changes nothing); null otherwise.
   */
  | { readonly type: 'peersUnreachable'; readonly peers: readonly NodeId[]; readonly count: number; readonly waiting: boolean; readonly deferringTo: NodeId | null; readonly at: number }
  /**
   * This peer's signaling client stopped for good (`reason`): the server refused it (a wrong room
   * secret, an unknown room) or it gave up reconnecting. Connections already open stay, but no
   * new peer can be reached until the room is joined again with a fixed configuration. A member
   * restarted from its storage starts without waiting for signaling, so for it this event, not
   * a rejected joinRoom, is where a refusal shows.
   */
  | { readonly type: 'signalingStopped'; readonly reason: string; readonly at: number }
  /**
   * This peer's WebSocket signaling client failed an attempt to reach or stay in the room and
   * tries again in `delayMs` (its `onRetry`, reached through the signaling context: a factory
   * that spreads the context into createWebSocketSignalingClient passes it on). `attempt` counts
   * the failures in a row; `reason` says what failed, and what the server said when it refused:
   * `member-in-use` when another live connection holds this peer's id (a fixed `nodeId` open in
   * another tab or browser). One per failed attempt, spaced by the client's backoff; the client
   * gives up after its limit, and a `signalingStopped` follows. Meanwhile a newcomer's join waits,
   * with this event as its only sign of why.
   */
  | { readonly type: 'signalingRetry'; readonly attempt: number; readonly delayMs: number; readonly reason: string; readonly at: number }
  /**
   * A connection signaled under `peer`'s id failed the room-secret handshake: that peer has
   * another secret (or none), or someone signals in its name. The transport keeps retrying and
   * no frame of it reaches the room. Reported through the transport context's
   * `onAuthenticationFailure` (a WebRTC transport made with the context spread in), at most once
   * per peer per 10 s and for at most 64 peers at a time (peer-authentication-reports.ts);
   * `failures` counts those since this peer's previous event, this one included.
   */
  | { readonly type: 'peerAuthenticationFailed'; readonly peer: NodeId; readonly reason: string; readonly failures: number; readonly at: number }
  /**
   * The room's store stopped folding: entry `index` of the log (a command, or the last index of an
   * installed snapshot) was written by version `seenVersion` of the application, newer than this
   * peer's `storeVersion` (ReplicatedStoreOptions.version). Once per incarnation; `room.store.outdated`
   * holds the StoreVersionError. The store's state stays as it was before that entry, and its
   * dispatches and reads fail with that error, but the node is not stopped: it votes, stores and
   * acknowledges as before, and the room keeps it as a member. Ask the user to reload the page
   * with the newer app: its store folds the log from the start, and nothing is lost.
   */
  | { readonly type: 'storeOutdated'; readonly storeVersion: number; readonly seenVersion: number; readonly index: number; readonly at: number };

export const reasonOf = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * Hands an event to the application's listener. An exception it throws is re-raised apart (an
 * unhandled rejection: loud) and never reaches the room's own loops, which would otherwise stop:
 * a policy tick that is not re-armed, a join that fails, a change marked in flight for good.
 */
export function emitSafely<Event extends RoomEvent>(listener: ((event: Event) => void) | undefined, event: Event): void {
  if (listener === undefined) return;
  try {
    listener(event);
  } catch (error) {
    void Promise.reject(error);
  }
}
