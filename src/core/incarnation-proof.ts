// What a forward under an auto client id must show before a leader appends it (SPEC
// "Exactly-once"; client-session-table.ts).
//
// The ClientSessionTable tells a node's incarnations apart by the order the log delivers their
// auto ids in: an auto id of node N that it has never seen retires N's live id, whose later
// commands it then skips. A forward sent by an incarnation that has died since can reach a
// leader late (a relay's queue, a congested link), after the next incarnation's first entry; if
// its id is one the table never saw, appended there it retired the live id, and every later
// command of the live incarnation committed (propose resolved) and was applied by no replica (an
// outside review, 2026-12-07). The table cannot tell such a straggler from a new incarnation by
// its key (random suffixes, request ids from 1), and neither start terms nor log lengths are
// monotonic across incarnations of one storage, so no order of ids can be read off them.
//
// So the proposer proves it is newer, and the leader checks the proof before appending. Each
// forward carries the proposer's commit index when it was sent (ForwardPropose
// proposerCommitIndex). A node knows an index committed only after it was committed, and only
// while alive, or from storage an earlier incarnation wrote, which a later one restores; and
// incarnations of one node id never overlap. Let X be the live id of N where the forward would
// land, first appended at f. Every entry appended after an incarnation died lands above the
// commit index of that moment, which bounds what it ever knew; X's first entry was appended
// after every earlier incarnation died, so a forward from one of them carries a commit index
// below f. A forward carrying one at or above f was sent by X itself or by an incarnation that
// started after X's first entry committed, a newer one, which rightly supersedes X.
//
// The leader does not know f or which id the table holds live, but it knows a bound from its
// own log: X's first entry is an entry of N, so it is at or below the last entry of N's auto
// ids that the leader's log holds (or below what the leader did not look at: its compaction
// floor, or the start of its bounded scan). Hence the rule (commitIndexNeeded):
// - a forward under the id of N's last entry needs nothing: appending it changes nothing the
//   table decides (the id is live there, or was refused there as retired and is refused again);
// - a forward under another auto id of N needs a commit index at or above that last entry's
//   index;
// - a forward under an auto id of a node this tracker does not hold needs one at or above the
//   floor below which it did not look.
// The check is made against the leader's log just before it appends, and that log up to the
// appended entry is the prefix the entry has in every log that holds it (Log Matching), the
// committed log included: the table folds exactly what the leader looked at. A forward that
// fails is answered 'unproven' with the commit index needed, and never appended; the live
// proposer sends it again once it knows that much committed (a heartbeat or two after a restart,
// since the index is in the leader's log), while a dead incarnation's frame simply goes
// nowhere. A leader's own proposals and the forwards it adopts on election come from a live
// incarnation and are not checked.
//
// Like the table's rule, this rests on incarnations of one node id never overlapping. A process
// that re-mints its auto id after a collision (SPEC "Collision") is one incarnation under two
// ids: its forwards still in flight under the old one prove as much as its new ones, and if they
// land after the new id's first entry the table skips them. That case already means two writers
// under one id, and is left as it was.
//
// Bounded: at most maxTrackedAutoNodes nodes; dropping one raises the floor to its last entry,
// which keeps the rule sound (only more demanding).
import { autoSuffixLength, parseAutoClientId } from './auto-client-id.ts';
import type { ClientId, DedupKey } from './types.ts';

/** Nodes whose last auto id a leader tracks; the least recently changed falls out first. */
export const maxTrackedAutoNodes = 4096;

interface LastAutoEntry {
  readonly clientId: ClientId;
  index: number;
}

/** Per node id, the auto client id of the last entry of that node in a leader's log. */
export class LastAutoEntries {
  /** nodeId -> its last auto entry; Map order is the order nodes last changed id. */
  private readonly byNode = new Map<string, LastAutoEntry>();
  /** clientId -> nodeId, for the ids that are their node's last: the common case in one lookup. */
  private readonly nodeOfLastId = new Map<ClientId, string>();
  /** Every auto entry of a node not tracked here is at or below this index. */
  private floor = 0;

  /** Starts over for a log whose entries at or below `floor` will not be shown. */
  reset(floor: number): void {
    this.byNode.clear();
    this.nodeOfLastId.clear();
    this.floor = floor;
  }

  /** The leader's log holds an entry under this key at `index` (called in index order). */
  note(key: DedupKey, index: number): void {
    const known = this.nodeOfLastId.get(key.clientId);
    if (known !== undefined) {
      const last = this.byNode.get(known);
      if (last !== undefined) last.index = index;
      return;
    }
    const node = autoNodeOf(key.clientId);
    if (node === null) return;
    const previous = this.byNode.get(node);
    if (previous !== undefined) {
      this.nodeOfLastId.delete(previous.clientId);
      this.byNode.delete(node);
    }
    this.byNode.set(node, { clientId: key.clientId, index });
    this.nodeOfLastId.set(key.clientId, node);
    if (this.byNode.size > maxTrackedAutoNodes) this.dropOldest();
  }

  /**
   * The commit index a proposer must have known when it forwarded a request under this key for
   * the leader to append it (see the header): 0 when nothing needs proving.
   */
  commitIndexNeeded(key: DedupKey | null): number {
    if (key === null || this.nodeOfLastId.has(key.clientId)) return 0;
    const node = autoNodeOf(key.clientId);
    if (node === null) return 0;
    return this.byNode.get(node)?.index ?? this.floor;
  }

  get trackedNodes(): number {
    return this.byNode.size;
  }

  private dropOldest(): void {
    for (const [node, last] of this.byNode) {
      this.byNode.delete(node);
      this.nodeOfLastId.delete(last.clientId);
      this.floor = Math.max(this.floor, last.index);
      return;
    }
  }
}

/** The node of an auto client id, or null for any other id (a cheap test first: most ids are not). */
function autoNodeOf(id: string): string | null {
  if (id.length <= autoSuffixLength || id.charCodeAt(id.length - autoSuffixLength - 1) !== 0x2d) return null;
  return parseAutoClientId(id)?.nodeId ?? null;
}
