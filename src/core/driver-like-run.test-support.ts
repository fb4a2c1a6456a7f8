// Runs a core harness the way the driver runs its nodes (a node is ticked only when its
// nextDeadline() is due), with slow links that carry messages a fixed time late: the snapshot
// stream scenarios (pacing, round trips, losses) use it.
import type { CoreHarness } from './core-harness.test-support.ts';
import type { RaftMessage } from './messages.ts';
import type { NodeId } from './types.ts';

interface InTransit {
  readonly at: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: RaftMessage;
}

/**
 * Runs a harness the way the driver runs its nodes: time moves 1 ms at a time and a node is
 * ticked only when its nextDeadline() has come. Links marked slow carry their messages
 * `oneWayMs` late (the harness blocks them and this runner delivers them itself).
 */
export class DriverLikeRun {
  /** Every tick after which a node still had work due at once: the driver would spin on it. */
  readonly spins: string[] = [];
  readonly ticks = new Map<NodeId, number>();
  /** Every InstallSnapshot chunk sent, with the time it went out. */
  readonly chunks: Array<{ readonly to: NodeId; readonly offset: number; readonly at: number }> = [];
  private readonly inTransit: InTransit[] = [];
  private readonly slowLinks = new Set<string>();
  private readonly silencedLinks = new Set<string>();
  private seen: number;

  constructor(
    readonly harness: CoreHarness,
    private readonly oneWayMs = 0,
  ) {
    this.seen = harness.sent.length;
  }

  /** Both directions between the two nodes take `oneWayMs`. */
  slowPath(left: NodeId, right: NodeId): void {
    for (const link of [`${left}->${right}`, `${right}->${left}`]) {
      this.slowLinks.add(link);
      this.harness.blocked.add(link);
    }
  }

  /** From now on, every message `from` sends `to` over a slow link is lost (a peer that stops answering). */
  silence(from: NodeId, to: NodeId): void {
    this.silencedLinks.add(`${from}->${to}`);
  }

  /** Loses every message still on its way over a slow link. */
  loseInTransit(): void {
    this.inTransit.length = 0;
  }

  /** Loses the messages on their way over a slow link that `lost` picks, and only those. */
  loseInTransitWhere(lost: (message: RaftMessage) => boolean): void {
    const kept = this.inTransit.filter((item) => !lost(item.message));
    this.inTransit.length = 0;
    this.inTransit.push(...kept);
  }

  /** Runs until `done` holds or `ms` have passed; true if `done` held. */
  runUntil(done: () => boolean, ms: number): boolean {
    const { harness } = this;
    const end = harness.now + ms;
    this.carry();
    while (!done()) {
      if (harness.now >= end) return false;
      harness.now += 1;
      for (const node of harness.nodes.values()) {
        if (node.core.nextDeadline() > harness.now) continue;
        node.core.tick(harness.now);
        this.ticks.set(node.id, (this.ticks.get(node.id) ?? 0) + 1);
        if (node.core.nextDeadline() <= harness.now) this.spins.push(`${node.id} (${node.core.role}) at ${harness.now}: next deadline ${node.core.nextDeadline()}`);
      }
      harness.settle();
      this.carry();
      while (this.inTransit.length > 0 && (this.inTransit[0] as InTransit).at <= harness.now) {
        const item = this.inTransit.shift() as InTransit;
        harness.nodes.get(item.to)?.core.receive(harness.now, item.from, item.message);
        harness.settle();
        this.carry();
      }
    }
    return true;
  }

  /** Messages sent on slow links since the last look, in send order. */
  private carry(): void {
    for (const item of this.harness.sent.slice(this.seen)) {
      if (item.message.type === 'installSnapshot') this.chunks.push({ to: item.to, offset: item.message.offset, at: this.harness.now });
      const link = `${item.from}->${item.to}`;
      if (this.slowLinks.has(link) && !this.silencedLinks.has(link)) this.inTransit.push({ at: this.harness.now + this.oneWayMs, ...item });
    }
    this.seen = this.harness.sent.length;
  }
}
