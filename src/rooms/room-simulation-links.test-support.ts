// Who reached whom in a room simulation, and when: for each ordered pair of ids, the spans in
// which the first's transport did not list the second (their link cut, or either end away), and
// which peer led from when. The room policy may remove a present member, but only over such a
// span, counted as the policy counts (room-coordinator.ts trackReachability): by the remover from
// its own looks, and, for the time before it led, from the latest hello of the leader before it.
import type { NodeId } from '../core/types.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';

/** A span in which a link was cut; `to` is null while it still is. */
interface Span {
  readonly from: number;
  to: number | null;
}

/** Spans kept per ordered pair, leaderships kept: a 12 s run makes a few dozen of each at most. */
const maxSpansPerPair = 256;
const maxLeaderships = 1_024;

/** How the policy counts, in the simulation's timings. */
export interface RemovalAllowance {
  /** `unreachableAfterMs`: how long a member must have been unreachable. */
  readonly waitMs: number;
  /**
   * A link restored for at most this long may go unseen by the peer counting it: it looks once
   * per coordinator interval, and a link restored and cut again between two looks stays counted.
   */
  readonly unseenGapMs: number;
  /**
   * How long before its election the leader before the remover may last have said it could not
   * reach the member: a new leader counts on from the latest fresh hello of the leader it
   * followed (hellos stay fresh for helloLifetimeMs), which that leader sent up to a coordinator
   * interval after its last look, and which took up to a network delay to arrive.
   */
  readonly handoverMs: number;
}

const pairKey = (from: NodeId, to: NodeId): string => `${from}\u0000${to}`;

export class LinkHistory {
  private readonly cuts = new Map<string, Span[]>();
  private readonly listed = new Map<NodeId, ReadonlySet<NodeId>>();
  private readonly leaderships: { readonly id: NodeId; readonly term: number; readonly at: number }[] = [];

  constructor(private readonly now: () => number) {}

  /** Follows `id`'s transport from its creation on (its peers list is what the policy reads). */
  watch(id: NodeId, transport: RaftTransport): void {
    this.listed.set(id, transport.peers.value);
    for (const other of this.listed.keys()) {
      this.update(id, other);
      this.update(other, id);
    }
    transport.peers.subscribe((peers) => {
      this.listed.set(id, peers);
      for (const other of this.listed.keys()) this.update(id, other);
    });
  }

  /** `id` became leader of `term`. */
  led(id: NodeId, term: number): void {
    // Each (id, term) once, in the order seen: a stale leader whose term is older than one already
    // recorded (both elected within one flush of microtasks) is still recorded, so a change it
    // starts is judged like any other.
    if (this.leaderships.some((each) => each.id === id && each.term === term)) return;
    this.leaderships.push({ id, term, at: this.now() });
    if (this.leaderships.length > maxLeaderships) this.leaderships.shift();
  }

  private update(from: NodeId, to: NodeId): void {
    if (from === to) return;
    const cut = this.listed.get(from)?.has(to) !== true;
    const key = pairKey(from, to);
    const spans = this.cuts.get(key) ?? [];
    const latest = spans.at(-1);
    if (cut && (latest === undefined || latest.to !== null)) spans.push({ from: this.now(), to: null });
    else if (!cut && latest !== undefined && latest.to === null) latest.to = this.now();
    if (spans.length > maxSpansPerPair) spans.shift();
    this.cuts.set(key, spans);
  }

  /** Whether `from` could not reach `to` throughout [start, end], a restore of up to `unseenGapMs` aside. */
  cutThroughout(from: NodeId, to: NodeId, start: number, end: number, unseenGapMs: number): boolean {
    let run: { start: number; end: number } | null = null;
    for (const span of this.cuts.get(pairKey(from, to)) ?? []) {
      const spanEnd = span.to ?? Number.POSITIVE_INFINITY;
      if (run !== null && span.from - run.end <= unseenGapMs) run.end = Math.max(run.end, spanEnd);
      else run = { start: span.from, end: spanEnd };
      if (run.start <= start && run.end >= end) return true;
    }
    return false;
  }

  /** The spans `from` could not reach `to` in, for a violation's message. */
  describeCuts(from: NodeId, to: NodeId): string {
    const spans = this.cuts.get(pairKey(from, to)) ?? [];
    return spans.length === 0 ? 'never cut' : spans.map((span) => `${Math.round(span.from)}..${span.to === null ? 'now' : Math.round(span.to)}`).join(', ');
  }

  /**
   * Null when `remover`, leading, may remove the present `removed` now as the policy counts:
   * its own link to it cut for `waitMs`, and before it led, the links of the leaders before it
   * too (up to `handoverMs` before each handover). Otherwise why not.
   */
  whyRemovalUnjustified(remover: NodeId, removed: NodeId, allowance: RemovalAllowance): string | null {
    const now = this.now();
    const windowStart = now - allowance.waitMs;
    if (!this.cutThroughout(remover, removed, windowStart, now, allowance.unseenGapMs)) {
      return `${remover} reached it within the last ${allowance.waitMs} ms (at ${Math.round(now)}; ${remover} -> ${removed} cut ${this.describeCuts(remover, removed)})`;
    }
    let position = this.leaderships.length - 1;
    while (position >= 0 && this.leaderships[position]!.id !== remover) position -= 1;
    // Never expected (a leader's term is recorded when it first leads it): judged, not waved through.
    if (position === -1) return `${remover}'s leadership is not in the record, so its count cannot be judged`;
    let handover = this.leaderships[position]!.at;
    for (position -= 1; position >= 0 && handover - allowance.handoverMs > windowStart; position -= 1) {
      const before = this.leaderships[position]!;
      const start = Math.max(before.at, windowStart);
      const end = handover - allowance.handoverMs;
      if (start <= end && !this.cutThroughout(before.id, removed, start, end, allowance.unseenGapMs)) {
        // The leader before may be the removed member itself: its hellos never list itself.
        const reach = before.id === removed ? 'led itself' : `reached it (${before.id} -> ${removed} cut ${this.describeCuts(before.id, removed)})`;
        return `${before.id}, which led before ${remover} took over at ${Math.round(handover)}, ${reach} within the last ${allowance.waitMs} ms (at ${Math.round(now)})`;
      }
      handover = before.at;
    }
    return null;
  }
}
