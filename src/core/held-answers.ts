// A follower's answer that tells its leader nothing new waits a moment, and goes only if no later
// answer to that leader that reports at least as much carries it first.
//
// A leader sends an AppendEntries with no entries when its commit index advances (the commit
// news) and every heartbeat interval, and a follower answers each one. When the follower's match
// index is one it has already reported in this term, that answer says only "still here", which
// the leader needs within an election timeout (CheckQuorum), not at once. At one proposal at a
// time the commit news of one entry is followed within a millisecond by the AppendEntries of the
// next: answered at once, each commit cost every follower a second send (about 0.2 ms of its
// worker inside RTCDataChannel.send, in the way of the next AppendEntries) and the leader a second
// answer to handle. Held, the next entry's answer carries it. Measured in Chromium (README,
// "Performance in real browsers"): a third fewer frames from the followers, and in alternating
// rounds the light load's p99 lower in ten of eleven, its p50 the same within the spread.
//
// Never held: a refusal, an answer that reports a higher match index than the last one sent (the
// leader commits on it), one that names a read round (a linearizable read waits on it), the first
// answer to a leader in a term, and any answer while writes are pending (heartbeat-answer.test.ts).
// A held answer goes at most `answerHoldMs` after the first of the answers it stands for, well
// inside any election timeout, so a leader in probe state that waits on an unchanged answer waits
// that much longer, no more (held-answers-liveness.test.ts: the two ways the first version
// stalled, found by a review).
import { send, sendAfterPersist, writesPending } from './core-output.ts';
import type { CoreState, HeldAppendAnswer } from './core-state.ts';
import type { AppendEntriesResponse } from './messages.ts';
import type { NodeId } from './types.ts';

/** How long an answer that tells the leader nothing new may wait: a tenth of the heartbeat interval, at least 1 ms. */
export function answerHoldMs(core: CoreState): number {
  return Math.max(1, Math.floor(core.config.heartbeatIntervalMs / 10));
}

/** Sends a follower's AppendEntries answer, or holds it when it tells the leader nothing new. */
export function answerAppendEntries(core: CoreState, to: NodeId, answer: AppendEntriesResponse, afterPersist: boolean): void {
  // Every answer of a witness says so: this is the one place they all pass (messages.ts).
  const message: AppendEntriesResponse = core.config.witness ? { ...answer, neverLeads: true } : answer;
  const held = core.heldAppendAnswer;
  // One held answer per leader and term; one to another leader or term means the held one's
  // leader is deposed, and it is dropped.
  const heldForThis = held !== null && held.to === to && held.message.term === message.term ? held : null;
  core.heldAppendAnswer = null;
  const last = core.lastAppendAnswer;
  const sameRound = last !== null && last.to === to && last.term === message.term;
  // With writes pending, the last answer may itself still wait for one (a slow disk holds it), and
  // an answer that does not is the leader's only sign of this follower meanwhile: it goes at once.
  const nothingNew = message.success && message.readRound === 0 && sameRound && message.matchIndex <= last.matchIndex && !writesPending(core);
  if (nothingNew) {
    // Whichever of the two reports more stays held, and under the first one's deadline: a match
    // index is only what the AppendEntries answered asked about (a heartbeat asks about the
    // leader's view, which may lag), and answers with no news can come faster than the hold.
    // Replaced by a lower one, the answer to a new leader's resent probe never went (a review:
    // its no-op never committed while the cluster stayed idle); restarted at every one, a
    // follower that lost its window went silent under steady commit news.
    if (heldForThis === null) core.heldAppendAnswer = { to, message, afterPersist, dueAt: core.now + answerHoldMs(core) };
    else core.heldAppendAnswer = heldForThis.message.matchIndex >= message.matchIndex ? heldForThis : { to, message, afterPersist, dueAt: heldForThis.dueAt };
    return;
  }
  // This one goes now. A held answer that reports more than it (it is a refusal, or asks about
  // less) goes first; otherwise this one carries everything the held one says.
  if (heldForThis !== null && (!message.success || message.matchIndex < heldForThis.message.matchIndex)) {
    sendAnswer(core, heldForThis);
  }
  if (message.success) core.lastAppendAnswer = { to, term: message.term, matchIndex: sameRound ? Math.max(last.matchIndex, message.matchIndex) : message.matchIndex };
  sendAnswer(core, { to, message, afterPersist });
}

function sendAnswer(core: CoreState, answer: Pick<HeldAppendAnswer, 'to' | 'message' | 'afterPersist'>): void {
  (answer.afterPersist ? sendAfterPersist : send)(core, answer.to, answer.message);
}

/** When the held answer falls due (infinite when none is held). */
export function heldAnswerDeadline(core: CoreState): number {
  return core.heldAppendAnswer?.dueAt ?? Number.POSITIVE_INFINITY;
}

/** On a tick: sends the held answer once due, unless this node has moved to another term or role since. */
export function releaseHeldAnswer(core: CoreState): void {
  const held = core.heldAppendAnswer;
  if (held === null || core.now < held.dueAt) return;
  core.heldAppendAnswer = null;
  if (held.message.term !== core.currentTerm || core.role === 'leader' || core.role === 'candidate') return;
  sendAnswer(core, held);
}
