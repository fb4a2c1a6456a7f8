// What a simulated node's disk holds, watched from the outside, and two rules checked against it
// (SafetyChecker): no write takes a committed entry out of the durable log that it must keep (see
// entriesRemoved), and no frame promises what the disk does not hold yet. A node that answers
// "I hold your entries through M" or "you have my vote" before the write lands can lose the
// entry or the vote to a crash after the leader or candidate counted it; whether that ever costs
// safety depends on which other nodes crash too, so a run finds it rarely. Checked as each frame
// is sent, it shows on the first frame that runs ahead of the disk, crash or not.
import { decodeMessage, messageTypeCodes } from '../codec/message-codec.ts';
import type { LogEntry, NodeId } from '../core/types.ts';
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
  /** The last index the disk holds: the log's end or the snapshot's, whichever is further. */
  readonly lastIndex: number;
  /** The term of the entry the disk's log holds at `index`, if it holds one there. */
  termAt(index: number): number | undefined;
  /** Whether a write in a term above `term` cut the log at or below `index` (a later leader's overwrite). */
  cutSince(term: number, index: number): boolean;
}

/** Cuts remembered for cutSince: a later term's overwrite is always among the newest few. */
const rememberedCuts = 64;

/**
 * Log Matching is checked at the moment entries become durable, against every other log, on
 * both write paths (the batched one, and the plain append after a snapshot write). Every write
 * that takes entries out of the durable log is checked (SafetyChecker.entriesRemoved): a prefix
 * discard only through what a durable snapshot covers, whatever the entries; a truncation never
 * of a committed entry on a node whose log already held an entry of the commit's term or later
 * (see entriesRemoved for why that is the line).
 */
export function watchDurableWrites(checker: SafetyChecker, id: NodeId, durable: InMemoryRaftStorage): DurableView {
  const batched = durable.writeBatch.bind(durable);
  const append = durable.appendEntries.bind(durable);
  const truncate = durable.truncateFrom.bind(durable);
  const discard = durable.discardLogPrefix.bind(durable);
  const cuts: Array<{ readonly term: number; readonly from: number }> = [];
  const termAt = (index: number): number | undefined => {
    const log = durable.peekLog();
    return log.entries[index - log.firstIndex]?.term;
  };
  const lastLogTerm = (): number => durable.peekLog().entries.at(-1)?.term ?? 0;
  const entriesFrom = (from: number, through = Number.POSITIVE_INFINITY): readonly LogEntry[] => {
    const log = durable.peekLog();
    return log.entries.slice(Math.max(0, from - log.firstIndex), Math.max(0, Math.min(log.entries.length, through - log.firstIndex + 1)));
  };
  // The in-memory store does its work synchronously inside each call: the wrappers read what a
  // call changed right after it, and hand back its own promise, so no write settles a microtask
  // later than before and every seed's run stays as it was.
  const gone = (entries: readonly LogEntry[]): readonly LogEntry[] => entries.filter((entry) => termAt(entry.index) !== entry.term);
  const truncated = (from: number, cut: readonly LogEntry[], termBefore: number, how: string): void => {
    // Remembered even when it removed nothing from the disk: the entries it overwrites may have
    // been merged away before they were ever written (the driver merges queued writes), and an
    // acknowledgement held for them is then excused the same way.
    cuts.push({ term: durable.peekHardState().term, from });
    if (cuts.length > rememberedCuts) cuts.shift();
    const removed = gone(cut);
    if (removed.length > 0) checker.entriesRemoved(id, removed, termBefore, how);
  };
  // The disk's commit index never runs ahead of what it holds, and what it holds through it is
  // what the cluster committed there: a restart applies those entries without asking anyone.
  let commitChecked = 0;
  const commitStored = (commitIndex: number): void => {
    const snapshotThrough = durable.peekSnapshotIndex();
    const log = durable.peekLog();
    const lastIndex = log.entries.length === 0 ? snapshotThrough : Math.max(snapshotThrough, log.firstIndex + log.entries.length - 1);
    const from = Math.max(commitChecked, snapshotThrough) + 1;
    checker.commitStored(id, commitIndex, lastIndex, entriesFrom(from, commitIndex));
    commitChecked = Math.max(commitChecked, commitIndex);
  };
  durable.writeBatch = async (batch: StorageBatch) => {
    const cut = batch.truncateFrom === undefined ? [] : entriesFrom(batch.truncateFrom);
    const termBefore = lastLogTerm();
    const written = batched(batch);
    if (batch.truncateFrom !== undefined) truncated(batch.truncateFrom, cut, termBefore, `a truncation from ${batch.truncateFrom}`);
    await written;
    checker.entriesPersisted(id, batch.entries, termAt);
    if (batch.commitIndex !== undefined) commitStored(batch.commitIndex);
  };
  durable.appendEntries = async (entries: readonly LogEntry[]) => {
    await append(entries);
    checker.entriesPersisted(id, entries, termAt);
  };
  durable.truncateFrom = (index: number) => {
    const cut = entriesFrom(index);
    const termBefore = lastLogTerm();
    const done = truncate(index);
    truncated(index, cut, termBefore, `a truncation from ${index}`);
    return done;
  };
  durable.discardLogPrefix = (throughIndex: number) => {
    const snapshotThrough = durable.peekSnapshotIndex();
    const uncovered = entriesFrom(snapshotThrough + 1, throughIndex);
    const done = discard(throughIndex);
    const removed = gone(uncovered);
    if (removed.length > 0) checker.entriesDiscardedUncovered(id, removed, throughIndex, snapshotThrough);
    return done;
  };
  return {
    get term() {
      return durable.peekHardState().term;
    },
    get votedFor() {
      return durable.peekHardState().votedFor;
    },
    get snapshotThrough() {
      return durable.peekSnapshotIndex();
    },
    get lastIndex() {
      const log = durable.peekLog();
      // An empty log's first index may have moved past the snapshot (a discard beyond it): the
      // disk then holds only what the snapshot covers. A log may also end below a snapshot whose
      // discard has not landed yet.
      const snapshotThrough = durable.peekSnapshotIndex();
      return log.entries.length === 0 ? snapshotThrough : Math.max(snapshotThrough, log.firstIndex + log.entries.length - 1);
    },
    termAt,
    cutSince(term, index) {
      return cuts.some((cut) => cut.term > term && cut.from <= index);
    },
  };
}

/**
 * A snapshot acknowledged through M: the disk holds a snapshot through M or beyond, or its log
 * holds the snapshot's last entry at M (the leader's, of the snapshot's last term: a follower that
 * already has it may keep its log). As long is not enough here either: a stale log of another
 * history through M, acknowledged before the snapshot lands, is lost to a crash after the leader
 * counted it. Without the leader's frame on record (evicted) only the length is checked.
 */
function checkSnapshotAcknowledgement(checker: SafetyChecker, id: NodeId, disk: DurableView, sent: { readonly leader: NodeId; readonly entryTerm: number } | undefined, to: NodeId, term: number, through: number): void {
  if (disk.snapshotThrough >= through) return;
  if (through > disk.lastIndex) {
    checker.frameAheadOfDisk(id, `acknowledged a snapshot through ${through} to ${to} in term ${term} while its disk held through ${disk.lastIndex}`);
    return;
  }
  const onDisk = disk.termAt(through);
  if (sent !== undefined && sent.leader === to && onDisk !== sent.entryTerm) {
    checker.frameAheadOfDisk(id, `acknowledged a snapshot through ${through} (last term ${sent.entryTerm}) to ${to} in term ${term} while its disk held no snapshot through it and ${onDisk === undefined ? 'no entry' : `an entry of term ${onDisk}`} there`);
  }
}

/** Only these promise something of the disk: the rest are decoded by the receiving engine alone. */
const promisingTypes = new Set([messageTypeCodes.appendEntriesResponse, messageTypeCodes.requestVoteResponse, messageTypeCodes.installSnapshotResponse]);

/**
 * What each leader's AppendEntries and InstallSnapshot frames said its log holds, cluster-wide
 * (one table per checker, as every node's transport is wrapped with the same one):
 * `${term}:${index}` -> the leader and the term of its entry there, from each request's previous
 * entry and its last, and from each snapshot's last included entry. A leader never changes its
 * own log within its term (and its snapshot covers only entries of that log), so one key names
 * one entry. Bounded: the oldest go first.
 */
type SentTerms = Map<string, { readonly leader: NodeId; readonly entryTerm: number }>;
const sentTermsByChecker = new WeakMap<SafetyChecker, SentTerms>();
const rememberedSentTerms = 200_000;

function sentTermsOf(checker: SafetyChecker): SentTerms {
  let table = sentTermsByChecker.get(checker);
  if (table === undefined) {
    table = new Map();
    sentTermsByChecker.set(checker, table);
  }
  return table;
}

function rememberSent(table: SentTerms, leader: NodeId, term: number, index: number, entryTerm: number): void {
  if (index === 0) return;
  const key = `${term}:${index}`;
  if (table.has(key)) return;
  table.set(key, { leader, entryTerm });
  if (table.size > rememberedSentTerms) table.delete(table.keys().next().value as string);
}

/**
 * Wraps the transport the engine sends through: an acknowledgement of entries through M (or of
 * an installed snapshot through M) goes out only once the disk holds the log through M or a
 * snapshot past it — the log with the entry at M its leader sent, not just as long — and a
 * granted vote only once the disk holds that vote in that term. Pre-votes promise nothing and are
 * not checked.
 */
export function checkAcknowledgements(checker: SafetyChecker, id: NodeId, disk: DurableView, transport: RaftTransport): RaftTransport {
  const sentTerms = sentTermsOf(checker);
  const send = (to: NodeId, bytes: Uint8Array): void => {
    const type = bytes[1] ?? -1;
    if (type === messageTypeCodes.appendEntries || type === messageTypeCodes.installSnapshot) recordSent(sentTerms, id, bytes);
    else if (promisingTypes.has(type)) checkFrame(checker, id, disk, sentTerms, to, bytes);
    transport.send(to, bytes);
  };
  // Plain fields, as the pausable process's transport has: nothing else is passed through (a
  // data-channel hand-off would carry frames past this check).
  return {
    selfId: transport.selfId,
    peers: transport.peers,
    incoming: transport.incoming,
    send,
    ...(transport.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: transport.maxPayloadBytes }),
    ...(transport.orderedFrameBytes === undefined ? {} : { orderedFrameBytes: transport.orderedFrameBytes }),
  };
}

function recordSent(sentTerms: SentTerms, leader: NodeId, bytes: Uint8Array): void {
  const decoded = decodeMessage(bytes);
  if (!decoded.ok) return;
  if (decoded.value.type === 'installSnapshot') {
    const { term, meta } = decoded.value;
    rememberSent(sentTerms, leader, term, meta.lastIncludedIndex, meta.lastIncludedTerm);
    return;
  }
  if (decoded.value.type !== 'appendEntries') return;
  const { term, prevLogIndex, prevLogTerm, entries } = decoded.value;
  rememberSent(sentTerms, leader, term, prevLogIndex, prevLogTerm);
  const last = entries.at(-1);
  if (last !== undefined) rememberSent(sentTerms, leader, term, last.index, last.term);
}

function checkFrame(checker: SafetyChecker, id: NodeId, disk: DurableView, sentTerms: SentTerms, to: NodeId, bytes: Uint8Array): void {
  const decoded = decodeMessage(bytes);
  if (!decoded.ok) return;
  const message = decoded.value;
  if (message.type !== 'appendEntriesResponse' && message.type !== 'installSnapshotResponse' && message.type !== 'requestVoteResponse') return;
  // A frame of an older term than the disk's can go out late: held for its write, which landed
  // merged with a later term's. A vote of that term was durable once or is superseded (the node
  // never votes in that term again). An acknowledgement still claims entries: it is excused only
  // where a later term's leader cut the log at or below what it claims (an overwrite the stale
  // leader cannot count on: Raft's vote overlap covers it).
  const older = disk.term > message.term;
  if (message.type === 'appendEntriesResponse' && message.success && !(older && disk.cutSince(message.term, message.matchIndex))) {
    if (message.matchIndex > disk.lastIndex) {
      checker.frameAheadOfDisk(id, `acknowledged entries through ${message.matchIndex} to ${to} in term ${message.term} while its disk held them through ${disk.lastIndex}${older ? ` (its disk in term ${disk.term}, snapshot through ${disk.snapshotThrough})` : ''}`);
    } else {
      // As long is not enough: the entry at M must be the one its leader sent (an overwrite of a
      // conflicting tail, acknowledged before it landed, leaves the old entries as many as before).
      const sent = sentTerms.get(`${message.term}:${message.matchIndex}`);
      const onDisk = message.matchIndex > disk.snapshotThrough ? disk.termAt(message.matchIndex) : undefined;
      if (sent !== undefined && sent.leader === to && onDisk !== undefined && onDisk !== sent.entryTerm) {
        checker.frameAheadOfDisk(id, `acknowledged entries through ${message.matchIndex} to ${to} in term ${message.term} while its disk held an entry of term ${onDisk} there, not the leader's of term ${sent.entryTerm}`);
      }
    }
  }
  if (message.type === 'installSnapshotResponse' && message.installed && !(older && disk.cutSince(message.term, message.lastIncludedIndex))) {
    checkSnapshotAcknowledgement(checker, id, disk, sentTerms.get(`${message.term}:${message.lastIncludedIndex}`), to, message.term, message.lastIncludedIndex);
  }
  if (message.type === 'requestVoteResponse' && message.granted && !message.preVote && !older && (disk.term !== message.term || disk.votedFor !== to)) {
    checker.frameAheadOfDisk(id, `granted ${to} its vote in term ${message.term} while its disk held term ${disk.term}, vote ${disk.votedFor ?? 'none'}`);
  }
}
