// Proposals of this node waiting to be seen committed at a known (index, term): its own as
// leader, or forwards the leader reported appended. When their index becomes applicable the
// core checks the term there: the same term means committed; another means the entry was lost
// to a leader change.
export interface AwaitedProposal {
  readonly proposalId: number;
  readonly term: number;
  /** Accepted by this node as leader: fails with leadershipLost on step-down. */
  readonly local: boolean;
}

export class ProposalWaiters {
  private readonly byIndex = new Map<number, AwaitedProposal[]>();
  /** Indices at or below this were already checked (later arrivals there are checked at once). */
  scannedThrough: number;

  constructor(scannedThrough: number) {
    this.scannedThrough = scannedThrough;
  }

  add(index: number, proposal: AwaitedProposal): void {
    const waiting = this.byIndex.get(index);
    if (waiting === undefined) this.byIndex.set(index, [proposal]);
    else waiting.push(proposal);
  }

  /** Stops waiting for one proposal wherever it waits. */
  remove(proposalId: number): void {
    this.keepOnly((item) => item.proposalId !== proposalId);
  }

  /** Removes and returns every proposal this node accepted as leader. */
  removeLocal(): AwaitedProposal[] {
    const removed: AwaitedProposal[] = [];
    this.keepOnly((item) => {
      if (item.local) removed.push(item);
      return !item.local;
    });
    return removed;
  }

  proposalIds(): number[] {
    const ids: number[] = [];
    for (const waiting of this.byIndex.values()) for (const item of waiting) ids.push(item.proposalId);
    return ids;
  }

  clear(): void {
    this.byIndex.clear();
  }

  /** Takes the proposals waiting at `index`. */
  take(index: number): AwaitedProposal[] | undefined {
    const waiting = this.byIndex.get(index);
    this.byIndex.delete(index);
    return waiting;
  }

  /** Takes, in index order, every group whose index is at most `applicable` and not yet scanned. */
  takeApplicable(applicable: number): Array<{ index: number; waiting: AwaitedProposal[] }> {
    const groups: Array<{ index: number; waiting: AwaitedProposal[] }> = [];
    if (this.byIndex.size > 0 && applicable - this.scannedThrough <= this.byIndex.size) {
      for (let index = this.scannedThrough + 1; index <= applicable; index += 1) {
        const waiting = this.take(index);
        if (waiting !== undefined) groups.push({ index, waiting });
      }
    } else if (this.byIndex.size > 0) {
      // A jump longer than the waits (an installed snapshot: a newcomer catching up on a long-lived
      // cluster, or a leader's index up to maxLogIndex) visits the waits, not every index: walking
      // 2^40 indices one by one froze the node.
      const due = [...this.byIndex.keys()].filter((index) => index > this.scannedThrough && index <= applicable).sort((left, right) => left - right);
      for (const index of due) groups.push({ index, waiting: this.take(index) as AwaitedProposal[] });
    }
    this.scannedThrough = Math.max(this.scannedThrough, applicable);
    return groups;
  }

  /**
   * Takes, in index order, every proposal waiting above `committedIndex` for an entry of a term
   * older than `committedTerm`, the term of the entry at `committedIndex`: such an entry can never
   * commit (proposal-completion.ts settleOutlived gives the argument).
   */
  takeOutlived(committedIndex: number, committedTerm: number): Array<{ index: number; waiting: AwaitedProposal[] }> {
    const groups: Array<{ index: number; waiting: AwaitedProposal[] }> = [];
    for (const [index, waiting] of this.byIndex) {
      if (index <= committedIndex) continue;
      const outlived = waiting.filter((item) => item.term < committedTerm);
      if (outlived.length === 0) continue;
      groups.push({ index, waiting: outlived });
      if (outlived.length === waiting.length) this.byIndex.delete(index);
      else this.byIndex.set(index, waiting.filter((item) => item.term >= committedTerm));
    }
    return groups.sort((left, right) => left.index - right.index);
  }

  private keepOnly(keep: (item: AwaitedProposal) => boolean): void {
    for (const [index, waiting] of this.byIndex) {
      const remaining = waiting.filter(keep);
      if (remaining.length === 0) this.byIndex.delete(index);
      else if (remaining.length !== waiting.length) this.byIndex.set(index, remaining);
    }
  }
}
