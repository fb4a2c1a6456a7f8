// Requests this node's own application proposes again under their keys (SPEC "Exactly-once"):
// a call that timed out, or a durable id's requests replayed after a crash. Each is answered
// with the entry the request already has, where this node can find it, instead of a second
// entry that the application's ClientSessionTable would skip while the caller was told its
// command landed there.
//
// Finding them must cost nothing on the hot path, where request ids only rise: the highest
// request id known per client is kept (one map write per proposal), and only a request at or
// below it looks back through the newest entries of the log for its key. The first request of
// a client in an incarnation starts the count at the highest id this node holds for the
// client (its log's newest entries and the keys it compacted), so a replay of several requests
// after a restart finds each of them.
import { dedupWindowSize } from './client-session-format.ts';
import { sameBytes } from './bytes.ts';
import { compactedEntryFor } from './compacted-keys.ts';
import { applicableIndex, type CoreState } from './core-state.ts';
import { type CachedAppend, carriesKey } from './dedup-key-cache.ts';
import type { ClientId, DedupKey } from './types.ts';

/** How far back the log is searched for a request proposed again (a bounded scan, for retries only). */
const retryScanEntries = 4 * dedupWindowSize;
/**
 * Clients whose request ids are followed: a node's own identities (one per incarnation through
 * createRaftNode, re-minted now and then), with room for a RaftCore user that proxies many. Past
 * it the map starts over, and each client's next request pays the first-sight scan again.
 */
const maxFollowedClients = 1_024;

/**
 * The entry of this leader's own log for a request its application proposed again. Entries of
 * a leader's own log are its own for good, committed or not, so any entry there under the key
 * is the request's (keys are unique). Only a request at or below the highest id this node
 * proposed for the client is looked for: a leader's inherited entries are in its dedup cache.
 */
export function retriedLocalEntry(core: CoreState, dedupKey: DedupKey | null): CachedAppend | null {
  if (dedupKey === null) return null;
  const highWater = core.localRequestHighWater.get(dedupKey.clientId);
  if (highWater === undefined || dedupKey.requestId > highWater) return null;
  return firstLogEntryUnder(core, dedupKey, core.log.lastIndex, null);
}

/**
 * The committed entry this node holds (in its log, or among the keys it compacted) for a request
 * proposed again under the same command, on a node that does not lead. Its leader may not
 * recognise the request: a leader that installed a snapshot over it, or compacted it and
 * restarted, holds neither the entry nor its key, and appended the command again. A committed
 * entry stays in the log for good, so the request took effect there (at the first such entry:
 * the session table skips later copies). Only entries this node has also written count: the
 * caller settles at once, and an entry still on its way to the disk could be replaced by a
 * snapshot install before it lands. An entry under the key with another command (a key reused)
 * is left to the leader, as before.
 */
export function committedRetryEntry(core: CoreState, dedupKey: DedupKey | null, command: Uint8Array): CachedAppend | null {
  if (dedupKey === null) return null;
  const highWater = core.localRequestHighWater.get(dedupKey.clientId) ?? followClient(core, dedupKey.clientId, highestKnownRequestId(core, dedupKey.clientId));
  if (dedupKey.requestId > highWater) return null;
  return compactedEntryFor(core, dedupKey, command) ?? firstLogEntryUnder(core, dedupKey, Math.min(applicableIndex(core), core.log.lastIndex), command);
}

/** Records a request this node proposes (before it is appended or forwarded). */
export function noteLocalRequest(core: CoreState, dedupKey: DedupKey | null): void {
  if (dedupKey === null) return;
  const highWater = core.localRequestHighWater.get(dedupKey.clientId);
  if (highWater === undefined || highWater < dedupKey.requestId) followClient(core, dedupKey.clientId, dedupKey.requestId);
}

/**
 * The first entry at or below `through`, within the scan's reach, under the key (and the command,
 * if given): where the request took effect, if a copy followed it (the session table skips copies).
 */
function firstLogEntryUnder(core: CoreState, dedupKey: DedupKey, through: number, command: Uint8Array | null): CachedAppend | null {
  for (let index = scanStart(core); index <= through; index += 1) {
    const entry = core.log.entryAt(index);
    if (entry !== undefined && carriesKey(entry, dedupKey) && (command === null || sameBytes(entry.command, command))) return { index, term: entry.term };
  }
  return null;
}

/** The highest request id of a client among the newest entries of the log and the keys compacted (0 if none). */
function highestKnownRequestId(core: CoreState, clientId: ClientId): number {
  let highest = core.compactedKeys.highestRequestId(clientId) ?? 0;
  for (let index = scanStart(core); index <= core.log.lastIndex; index += 1) {
    const key = core.log.entryAt(index)?.dedupKey;
    if (key !== undefined && key.clientId === clientId && key.requestId > highest) highest = key.requestId;
  }
  return highest;
}

/** The oldest index the look-back reaches: the newest retryScanEntries entries the log holds. */
function scanStart(core: CoreState): number {
  return Math.max(core.log.floorIndex + 1, core.log.lastIndex - retryScanEntries + 1);
}

function followClient(core: CoreState, clientId: ClientId, highWater: number): number {
  // Bounded: forgetting only sends a rare retry down the append path, as before.
  if (!core.localRequestHighWater.has(clientId) && core.localRequestHighWater.size >= maxFollowedClients) core.localRequestHighWater.clear();
  core.localRequestHighWater.set(clientId, highWater);
  return highWater;
}
