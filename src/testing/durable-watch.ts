// What a simulated node's disk holds, watched from the outside, and two rules checked against it
// (SafetyChecker): a write never takes a committed entry out of the durable log unless a durable
// snapshot covers it, and no frame promises what the disk does not hold yet. A node that answers
// "I hold your entries through M" or "you have my vote" before the write lands can lose the
// entry or the vote to a crash after the leader or candidate counted it; whether that ever costs
// safety depends on which other nodes crash too, so a run finds it rarely. Checked as each frame
// is sent, it shows on the first frame that runs ahead of the disk, crash or not.
import { decodeMessage, messageTypeCodes } from '../codec/message-codec.ts';
import type { LogEntry, NodeId, SnapshotMeta } from '../core/types.ts';
import type { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { StorageBatch } from '../storage/raft-storage.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import type { SafetyChecker } from './checkers.ts';

/** What the node's disk holds now: its term and vote, how far its snapshot and log reach. */
export interface DurableView {
  readonly term: number;
  readonly votedFor: NodeId | null;
  /** The last index the durable snapshot covers (0 without one). */
  readonly snapshotThrough: number;
  /** The last index the durable log holds (the snapshot's when the log is empty). */
  readonly lastIndex: number;
}

/**
 * Log Matching is checked at the moment entries become durable, against every other log, on
 * both write paths (the batched one, and the plain append after a snapshot write). Every write
 * that takes entries out of the durable log (a truncation, a discard of the prefix) is checked
 * to keep the committed ones (SafetyChecker.entriesRemoved): a discard only through what a
 * durable snapshot covers, a truncation never below what this node's term says is committed.
 * The store must be new: the view starts from an empty disk.
 */
export function watchDurableWrites(checker: SafetyChecker, id: NodeId, durable: InMemoryRaftStorage): DurableView {
  const batched = durable.writeBatch.bind(durable);
  const append = durable.appendEntries.bind(durable);
  const truncate = durable.truncateFrom.bind(durable);
  const discard = durable.discardLogPrefix.bind(durable);
  const saveTerm = durable.saveTermAndVotedFor.bind(durable);
  const saveSnapshot = durable.saveSnapshot.bind(durable);
  let term = 0;
  let votedFor: NodeId | null = null;
  let snapshotThrough = 0;
  const termAt = (index: number): number | undefined => {
    const log = durable.peekLog();
    return log.entries[index - log.firstIndex]?.term;
  };
  const entriesFrom = (from: number, through = Number.POSITIVE_INFINITY): readonly LogEntry[] => {
    const log = durable.peekLog();
    return log.entries.slice(Math.max(0, from - log.firstIndex), Math.max(0, Math.min(log.entries.length, through - log.firstIndex + 1)));
  };
  // The in-memory store does its work synchronously inside each call: the wrappers read what a
  // call changed right after it, and hand back its own promise, so no write settles a microtask
  // later than before and every seed's run stays as it was.
  const gone = (entries: readonly LogEntry[]): readonly LogEntry[] => entries.filter((entry) => termAt(entry.index) !== entry.term);
  durable.writeBatch = async (batch: StorageBatch) => {
    const cut = batch.truncateFrom === undefined ? [] : entriesFrom(batch.truncateFrom);
    const written = batched(batch);
    if (batch.hardState !== undefined) ({ term, votedFor } = batch.hardState);
    checker.entriesRemoved(id, gone(cut), term, `a truncation from ${batch.truncateFrom ?? '-'}`);
    await written;
    checker.entriesPersisted(id, batch.entries, termAt);
  };
  durable.appendEntries = async (entries: readonly LogEntry[]) => {
    await append(entries);
    checker.entriesPersisted(id, entries, termAt);
  };
  durable.saveTermAndVotedFor = (newTerm: number, newVote: NodeId | null) => {
    const saved = saveTerm(newTerm, newVote);
    term = newTerm;
    votedFor = newVote;
    return saved;
  };
  durable.truncateFrom = (index: number) => {
    const cut = entriesFrom(index);
    const truncated = truncate(index);
    checker.entriesRemoved(id, gone(cut), term, `a truncation from ${index}`);
    return truncated;
  };
  durable.saveSnapshot = (meta: SnapshotMeta, state: Uint8Array) => {
    const saved = saveSnapshot(meta, state);
    snapshotThrough = meta.lastIncludedIndex;
    return saved;
  };
  durable.discardLogPrefix = (throughIndex: number) => {
    const uncovered = entriesFrom(snapshotThrough + 1, throughIndex);
    const discarded = discard(throughIndex);
    checker.entriesRemoved(id, gone(uncovered), term, `a discard through ${throughIndex}, beyond its durable snapshot through ${snapshotThrough}`);
    return discarded;
  };
  return {
    get term() {
      return term;
    },
    get votedFor() {
      return votedFor;
    },
    get snapshotThrough() {
      return snapshotThrough;
    },
    get lastIndex() {
      const log = durable.peekLog();
      return Math.max(snapshotThrough, log.firstIndex + log.entries.length - 1);
    },
  };
}

/** Only these promise something of the disk: the rest are decoded by the receiving engine alone. */
const promisingTypes = new Set([messageTypeCodes.appendEntriesResponse, messageTypeCodes.requestVoteResponse]);

/**
 * Wraps the transport the engine sends through: an acknowledgement of entries through M goes out
 * only once the disk holds the log through M (or a snapshot past it), and a granted vote only
 * once the disk holds that vote in that term. Pre-votes promise nothing and are not checked.
 */
export function checkAcknowledgements(checker: SafetyChecker, id: NodeId, disk: DurableView, transport: RaftTransport): RaftTransport {
  const send = (to: NodeId, bytes: Uint8Array): void => {
    if (promisingTypes.has(bytes[1] ?? -1)) checkFrame(checker, id, disk, to, bytes);
    transport.send(to, bytes);
  };
  return {
    get selfId() {
      return transport.selfId;
    },
    get peers() {
      return transport.peers;
    },
    get incoming() {
      return transport.incoming;
    },
    ...(transport.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: transport.maxPayloadBytes }),
    ...(transport.orderedFrameBytes === undefined ? {} : { orderedFrameBytes: transport.orderedFrameBytes }),
    send,
  };
}

function checkFrame(checker: SafetyChecker, id: NodeId, disk: DurableView, to: NodeId, bytes: Uint8Array): void {
  const decoded = decodeMessage(bytes);
  if (!decoded.ok) return;
  const message = decoded.value;
  if (message.type !== 'appendEntriesResponse' && message.type !== 'requestVoteResponse') return;
  // A frame of an older term than the disk's goes out late (held for its write, which then landed
  // together with a later term's): the node will never act in that term again, and what it
  // promised there was durable once, or merged into a later write that supersedes it.
  if (disk.term > message.term) return;
  if (message.type === 'appendEntriesResponse' && message.success && message.matchIndex > disk.lastIndex) {
    checker.frameAheadOfDisk(id, `acknowledged entries through ${message.matchIndex} to ${to} in term ${message.term} while its disk held them through ${disk.lastIndex}`);
  }
  if (message.type === 'requestVoteResponse' && message.granted && !message.preVote && (disk.term !== message.term || disk.votedFor !== to)) {
    checker.frameAheadOfDisk(id, `granted ${to} its vote in term ${message.term} while its disk held term ${disk.term}, vote ${disk.votedFor ?? 'none'}`);
  }
}
