// Snapshots and compaction (§7): the application's state replaces the log behind it; a leader
// streams its snapshot, paced, to a follower that needs entries it compacted away, and a
// follower reassembles and installs one.
import { assert, assertUnreachable } from './assert.ts';
import { emitTrace, pushMetric, refuse, send, sendAfterPersist } from './core-output.ts';
import { rememberCompactedKeys } from './compacted-keys.ts';
import { applicableIndex, type CoreState } from './core-state.ts';
import { advanceClock } from './core-time.ts';
import { truncateLog } from './log-writes.ts';
import { adoptMembership, configAt, latestConfigPayload } from './membership-state.ts';
import type { InstallSnapshot, InstallSnapshotResponse } from './messages.ts';
import { becomeProbe, type FollowerProgress, type SnapshotStream, streamedSnapshotIndex } from './progress.ts';
import { snapshotChunkBytes } from './snapshot-frame.ts';
import { acceptChunk } from './snapshot-reassembly.ts';
import { acknowledgeSnapshotOffset, beginSnapshotStream, nextSnapshotChunks, snapshotChunkDueAt, snapshotStreamAdvancing, type SnapshotPace, takeLostReassembly } from './snapshot-sender.ts';
import type { NodeId, SnapshotMeta, StoredSnapshot } from './types.ts';

/** What snapshots need of the rest of the engine (raft-core.ts wires it). */
export interface SnapshotsHost {
  maybeAdvanceCommit(): void;
  sendAppend(peer: NodeId): void;
}

/**
 * The application's state through `throughIndex`: store it and compact the log behind it.
 * False when it is not newer than the snapshot or the floor this node has (nothing changes).
 */
export function publishSnapshot(core: CoreState<SnapshotsHost>, now: number, throughIndex: number, state: Uint8Array): boolean {
  advanceClock(core, now);
  assert(throughIndex <= applicableIndex(core), `snapshot through ${throughIndex} is beyond the applied index ${applicableIndex(core)}`);
  if (core.snapshot !== null && throughIndex <= core.snapshot.meta.lastIncludedIndex) return false;
  if (throughIndex <= core.log.floorIndex) return false;
  const term = core.log.termAt(throughIndex) as number;
  const meta: SnapshotMeta = { lastIncludedIndex: throughIndex, lastIncludedTerm: term, config: configAt(core, throughIndex) };
  core.snapshot = { meta, state };
  core.compactionWanted = Math.max(core.compactionWanted, throughIndex - core.config.snapshotTrailingEntries);
  const compactThrough = Math.max(core.log.floorIndex, allowedCompaction(core, throughIndex));
  core.pendingSnapshotWrite = { meta, state, discardLogThrough: compactThrough };
  compactLog(core, compactThrough);
  return true;
}

/** How far the log may be compacted now, behind a snapshot through `snapshotIndex`. */
function allowedCompaction(core: CoreState<SnapshotsHost>, snapshotIndex: number): number {
  return Math.min(core.compactionWanted, snapshotIndex, lowestPendingForwardFloor(core), lowestFollowerHold(core));
}

/**
 * Finishes a compaction that a pending forward or a follower catching up (its stream running, or
 * the entries after the snapshot it installed) held back, once they no longer need the entries
 * or no longer count (checked at every ready). Without it the floor stayed where the hold left it
 * until the application published again, which an application that snapshots on a schedule, or
 * once, may not do for a long time: the log kept what it had asked to drop, and compactionFloor
 * said so (bench:browser's snapshot phase waited for it in vain). The snapshot is written again
 * with the discard, as publishSnapshot writes it: the driver's write of a snapshot is what
 * discards the log behind it.
 */
export function resumeHeldCompaction(core: CoreState<SnapshotsHost>): void {
  const snapshot = core.snapshot;
  if (snapshot === null || core.compactionWanted <= core.log.floorIndex || core.pendingSnapshotWrite !== null) return;
  // All the way or not at all: each resumption writes the whole snapshot again, and holds that
  // clear one by one (forwards settling over a round trip) would otherwise write it once each.
  const through = Math.min(core.compactionWanted, snapshot.meta.lastIncludedIndex, core.log.lastIndex);
  if (through <= core.log.floorIndex || allowedCompaction(core, snapshot.meta.lastIncludedIndex) < through) return;
  core.pendingSnapshotWrite = { meta: snapshot.meta, state: snapshot.state, discardLogThrough: through };
  compactLog(core, through);
}

/**
 * How far the log may be compacted without losing an entry a pending forward must be checked
 * against. The leader's answer (appended at index i, term t) can arrive after entry i was
 * applied, and then the entry must still be in the log: without it the proposal's fate is
 * unknown. Forwards settle within a round trip, so this holds compaction back only briefly.
 */
function lowestPendingForwardFloor(core: CoreState<SnapshotsHost>): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const forward of core.forwards.values()) lowest = Math.min(lowest, forward.committedBefore);
  return lowest;
}

/**
 * How far the log may be compacted without a follower that is catching up falling behind the
 * floor: not past the snapshot its running stream sends, nor, once it installed that snapshot,
 * past its match index until it has the entries the leader had then.
 *
 * A stream finishes the snapshot it began (progress.ts SnapshotStream), and the follower then
 * needs the entries after it. Compacted past them, it would need the newest snapshot next, and
 * while the application publishes faster than one streams it would never catch up, always a
 * stream or two behind; kept, it catches up from the log. The hold used to end at the install:
 * the next ready compacted to the newest snapshot at once, while the follower was sent one probe
 * (8 KiB at most) after the snapshot, so with more than that written meanwhile it was behind the
 * floor again and got a whole new stream (review snap52). So it lasts until the follower's match
 * index reaches the leader's last index at the install (progress.ts catchUpThroughIndex): a fixed
 * goal, so a follower slower than the writes does not hold the log for ever; past it, it is a
 * follower like any other.
 *
 * Only a follower getting somewhere holds anything, so none keeps the log from being compacted
 * for good: a stalled stream (no acknowledgement for a stall timeout) holds nothing, nor one
 * whose follower answers but has not got past its furthest acknowledged byte for a while
 * (snapshot-sender.ts snapshotHoldPatienceMs: a follower stuck at an offset, whose answers
 * rewound the stream and so kept the stall clock from ever running out), nor a follower catching
 * up whose match index has not moved for that long. Nor the streams of a follower that lost its
 * reassembly twice without getting through (reassembliesLostBeforeForfeit).
 */
function lowestFollowerHold(core: CoreState<SnapshotsHost>): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const progress of core.progress.values()) {
    const stream = progress.snapshotStream;
    if (stream !== null && streamGetsSomewhere(core, progress, stream) && progress.snapshotReassembliesLost < reassembliesLostBeforeForfeit) {
      lowest = Math.min(lowest, stream.snapshot.meta.lastIncludedIndex);
    } else if (catchingUpAfterInstall(core, progress)) {
      lowest = Math.min(lowest, progress.matchIndex);
    }
  }
  return lowest;
}

/**
 * Lost reassemblies after which a follower's streams hold no compaction, until it gets through.
 * One (a tab reloaded mid-install) costs nothing here: its stream starts over with the newest
 * snapshot and holds as before. Two without an install between say the install is what the
 * follower does not survive (it runs out of memory, say), and while its streams held, the log
 * was never compacted behind the newer snapshots (review snap52: 600 entries kept in two minutes,
 * and growing). Such a stream is still let finish (restartStreamsBehindTheFloor): a follower that
 * recovers installs it, the next stream holds again, and it catches up from the log.
 */
const reassembliesLostBeforeForfeit = 2;

/** Whether the follower answers its stream and gets further in it (not stalled, not stuck). */
function streamGetsSomewhere(core: CoreState<SnapshotsHost>, progress: FollowerProgress, stream: SnapshotStream): boolean {
  return !progress.snapshotStalled && snapshotStreamAdvancing(progress, core.now, streamPace(core, stream), core.snapshotStallBounds);
}

/** Whether the follower installed a snapshot and its match index is still on its way to catchUpThroughIndex, moving. */
function catchingUpAfterInstall(core: CoreState<SnapshotsHost>, progress: FollowerProgress): boolean {
  return progress.state !== 'snapshot' && progress.matchIndex < progress.catchUpThroughIndex && core.now - progress.matchAdvancedAt < core.snapshotStallBounds.ceilingMs;
}

function compactLog(core: CoreState<SnapshotsHost>, throughIndex: number): void {
  if (throughIndex <= core.log.floorIndex) return;
  core.snapshotConfig = configAt(core, throughIndex);
  rememberCompactedKeys(core, throughIndex, throughIndex); // applied, so committed
  core.log.compactThrough(throughIndex, core.log.termAt(throughIndex) as number);
  emitTrace(core, { type: 'compacted', throughIndex });
  restartStreamsBehindTheFloor(core);
}

/**
 * A stalled or stuck stream holds no compaction (lowestFollowerHold), so the floor can pass the
 * snapshot it sends: finished, that snapshot would leave its follower needing entries the log no
 * longer has, and the stream would only keep an outdated state alive for a follower that may be
 * gone for good. Such a stream starts over with the newest snapshot (a review of the night's fix
 * found a follower back after five minutes sent snapshot 6 in full, then snapshot 31). The stream
 * of a follower that lost its reassembly twice holds nothing either, but gets somewhere: it is let
 * finish, or a follower that recovered would have its stream restarted at every publish and, with
 * publishes more frequent than a stream takes, never install one (its next lost reassembly
 * restarts it with the newest in any case).
 */
function restartStreamsBehindTheFloor(core: CoreState<SnapshotsHost>): void {
  for (const progress of core.progress.values()) {
    const stream = progress.snapshotStream;
    if (stream === null || stream.snapshot === core.snapshot || stream.snapshot.meta.lastIncludedIndex >= core.log.floorIndex) continue;
    if (!streamGetsSomewhere(core, progress, stream)) beginSnapshotTransfer(core, progress);
  }
}

/** A follower needs entries behind the floor: its stream starts with the newest snapshot. */
export function beginSnapshotTransfer(core: CoreState<SnapshotsHost>, progress: FollowerProgress): void {
  assert(core.snapshot !== null, 'a follower needs entries below the floor but no snapshot exists');
  const chunkBytes = snapshotChunkBytes(core.snapshot.meta, core.config.snapshotChunkCeilingBytes, core.maxAppendBytes);
  beginSnapshotStream(progress, { snapshot: core.snapshot, chunkBytes }, core.now);
}

/** How a stream is paced: its own chunk size (it depends on the snapshot's meta), the configured rate. */
function streamPace(core: CoreState<SnapshotsHost>, stream: SnapshotStream): SnapshotPace {
  return { chunkBytes: stream.chunkBytes, bytesPerSecond: core.config.snapshotBytesPerSecond };
}

/** The earliest pacing deadline of the snapshot streams that wait only for it. */
export function pacedSnapshotDeadline(core: CoreState<SnapshotsHost>): number {
  let deadline = Number.POSITIVE_INFINITY;
  for (const progress of core.progress.values()) {
    const stream = progress.snapshotStream;
    if (stream !== null) deadline = Math.min(deadline, snapshotChunkDueAt(progress, stream.snapshot.state.length, streamPace(core, stream)));
  }
  return deadline;
}

export function sendPacedSnapshotChunks(core: CoreState<SnapshotsHost>): void {
  for (const [peer, progress] of core.progress) {
    const stream = progress.snapshotStream;
    if (stream !== null && snapshotChunkDueAt(progress, stream.snapshot.state.length, streamPace(core, stream)) <= core.now) sendSnapshotChunks(core, peer, progress);
  }
}

/**
 * Sends what the follower's snapshot window and pacing allow, of the snapshot its stream began
 * with, even once a newer one is published (progress.ts SnapshotStream says why).
 */
export function sendSnapshotChunks(core: CoreState<SnapshotsHost>, peer: NodeId, progress: FollowerProgress): void {
  const stream = progress.snapshotStream;
  assert(progress.state === 'snapshot' && stream !== null, `snapshot chunks for ${peer}, whose progress streams none`);
  const state = stream.snapshot.state;
  for (const chunk of nextSnapshotChunks(progress, state.length, streamPace(core, stream), core.now)) {
    sendSnapshotChunk(core, peer, stream.snapshot, chunk.offset, state.subarray(chunk.offset, chunk.offset + chunk.length));
  }
}

function sendSnapshotChunk(core: CoreState<SnapshotsHost>, peer: NodeId, snapshot: StoredSnapshot, offset: number, data: Uint8Array): void {
  if (offset === 0) emitTrace(core, { type: 'installSnapshot', to: peer, lastIncludedIndex: snapshot.meta.lastIncludedIndex });
  send(core, peer, { type: 'installSnapshot', term: core.currentTerm, meta: snapshot.meta, totalBytes: snapshot.state.length, offset, data });
}

export function handleSnapshotResponse(core: CoreState<SnapshotsHost>, from: NodeId, response: InstallSnapshotResponse): void {
  const progress = core.progress.get(from);
  if (core.role !== 'leader' || progress === undefined) return;
  progress.lastResponseAt = core.now;
  progress.answered = true;
  if (progress.state !== 'snapshot' || response.lastIncludedIndex !== streamedSnapshotIndex(progress)) return;
  if (response.installed) {
    progress.matchIndex = Math.max(progress.matchIndex, Math.min(response.lastIncludedIndex, core.log.lastIndex));
    progress.matchAdvancedAt = core.now;
    becomeProbe(progress);
    // Compaction waits until it has the entries written while it streamed (lowestFollowerHold).
    progress.catchUpThroughIndex = core.log.lastIndex;
    core.host.maybeAdvanceCommit();
    core.host.sendAppend(from);
    return;
  }
  const stream = progress.snapshotStream as SnapshotStream;
  acknowledgeSnapshotOffset(progress, response.nextOffset, core.now, core.config.heartbeatIntervalMs, core.snapshotStallBounds);
  if (takeLostReassembly(progress, core.now, streamPace(core, stream), core.snapshotStallBounds)) {
    progress.snapshotReassembliesLost += 1;
    // The follower starts from nothing whichever snapshot it gets, so it gets the newest: the
    // stream it had held compaction at an older one (or, from the second loss, held nothing).
    if (stream.snapshot !== core.snapshot) beginSnapshotTransfer(core, progress);
  }
  sendSnapshotChunks(core, from, progress);
}

export function handleInstallSnapshot(core: CoreState<SnapshotsHost>, from: NodeId, message: InstallSnapshot): void {
  const respond = (nextOffset: number, installed: boolean): void => {
    const response: InstallSnapshotResponse = { type: 'installSnapshotResponse', term: core.currentTerm, lastIncludedIndex: message.meta.lastIncludedIndex, nextOffset, installed };
    if (installed) sendAfterPersist(core, from, response);
    else send(core, from, response);
  };
  if (message.meta.lastIncludedIndex <= core.commitIndex) {
    respond(message.totalBytes, true); // already have everything it covers
    return;
  }
  const verdict = acceptChunk(core.reassembly, message, core.config.snapshotTotalCeilingBytes);
  switch (verdict.type) {
    case 'tooLarge':
      pushMetric(core, { type: 'snapshotRejectedSizeCeiling', from, totalBytes: message.totalBytes });
      refuse(core, from, 'outOfRange', message.term);
      return;
    case 'invalidMeta':
      refuse(core, from, 'outOfRange', message.term);
      return;
    case 'stale':
      return; // the leader no longer streams it: an answer would be dropped there
    case 'progress':
      core.reassembly = verdict.reassembly;
      respond(verdict.reassembly.received, false);
      return;
    case 'complete':
      core.reassembly = null;
      installSnapshot(core, message.meta, verdict.state);
      respond(message.totalBytes, true);
      return;
    default:
      assertUnreachable(verdict);
  }
}

/**
 * Lets go of a half-built snapshot that nothing can complete any more (checked at every ready).
 * It was let go only when it completed or a chunk of another transfer replaced it, so a transfer
 * abandoned halfway (its leader gone, the follower brought up to date from a new leader's log)
 * kept its buffer, up to snapshotTotalCeiling, for good. A reassembly belongs to one leader's
 * term (snapshot-reassembly.ts sameTransfer) and chunks of an older term are refused, so once the
 * term moves on no chunk can add to it (a candidate or a leader has moved it, by campaigning: the
 * role test only says so outright); and once the commit index reaches its index, a chunk of it is
 * answered as installed without a look (handleInstallSnapshot), so its bytes would never be used.
 */
export function dropAbandonedReassembly(core: CoreState<SnapshotsHost>): void {
  const reassembly = core.reassembly;
  if (reassembly === null) return;
  if (reassembly.leaderTerm !== core.currentTerm || reassembly.meta.lastIncludedIndex <= core.commitIndex || core.role === 'leader' || core.role === 'candidate') core.reassembly = null;
}

/** Atomically: storage (snapshot, then the log after it), then the install instruction. */
function installSnapshot(core: CoreState<SnapshotsHost>, meta: SnapshotMeta, state: Uint8Array): void {
  const index = meta.lastIncludedIndex;
  // Entries through the commit index are committed; a log that matches the snapshot at its
  // index holds the committed entries up to there (Log Matching).
  rememberCompactedKeys(core, core.log.termAt(index) === meta.lastIncludedTerm ? index : core.commitIndex, index);
  // A log that differs from the snapshot at its index holds, after it, entries of another history,
  // never committed: those go now. Entries up to the index go only with the snapshot write's
  // discard, once the snapshot is durable: the ones above the commit index may be committed
  // (this node's acknowledgement counted), and cutting them first, as from commitIndex + 1 before,
  // left a node that crashed before the snapshot landed without entries a quorum relied on
  // (5-node seed 60060 --removals: a leader elected without a committed entry).
  if (core.log.termAt(index) !== meta.lastIncludedTerm) {
    // What storage holds above the commit index is not this history: nothing past the commit index
    // counts as durable here until the snapshot write lands (persisted() raises it then). Else the
    // committed stream would hand out the snapshot, and a heartbeat be acknowledged through its
    // index, before it is on disk (review of the fix above).
    core.persistedIndex = Math.min(core.persistedIndex, core.commitIndex);
    if (core.log.lastIndex > index) truncateLog(core, index + 1);
  }
  core.log.compactThrough(index, meta.lastIncludedTerm);
  core.snapshotConfig = meta.config ?? core.snapshotConfig;
  core.snapshot = { meta, state };
  core.unwrittenEntries = core.unwrittenEntries.filter((entry) => entry.index > index);
  core.pendingSnapshotWrite = { meta, state, discardLogThrough: index };
  if (index > core.commitIndex) core.commitIndex = index;
  adoptMembership(core, latestConfigPayload(core), index);
  emitTrace(core, { type: 'installSnapshotAccepted', lastIncludedIndex: index });
}
