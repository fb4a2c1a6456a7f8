// What the room simulation's signaling lists for each id: the peers its transport reaches, and
// the present peers only a cut link keeps it from. A cut plays a link that failed (ICE, a NAT
// rebinding) while signaling still works: listed by reach alone, a peer cut from every member
// met nobody, took the room for empty and started a second cluster (seeds 96214 and 96308),
// which README "Rooms" says a newcomer alone in a room does, rightly.
import { createWatchable, type Watchable, type WritableWatchable } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';

const sameIds = (left: ReadonlySet<NodeId>, right: ReadonlySet<NodeId>): boolean => left.size === right.size && [...left].every((id) => right.has(id));

export class SignalingListing {
  private readonly lists = new Map<NodeId, WritableWatchable<ReadonlySet<NodeId>>>();
  private readonly transports = new Map<NodeId, RaftTransport>();

  /**
   * @param cutFrom the present peers' ids `id` is cut from now
   */
  constructor(private readonly cutFrom: (id: NodeId) => readonly NodeId[]) {}

  /** Follows `id`'s transport from its creation on. */
  watch(id: NodeId, transport: RaftTransport): void {
    this.transports.set(id, transport);
    transport.peers.subscribe(() => this.refresh(id));
    this.refresh(id);
  }

  /** The list signaling gives `id`. */
  listed(id: NodeId): Watchable<ReadonlySet<NodeId>> {
    return this.listFor(id);
  }

  /** Every list again: after a cut, a restore, an arrival or a departure. */
  refreshAll(): void {
    for (const id of this.transports.keys()) this.refresh(id);
  }

  private listFor(id: NodeId): WritableWatchable<ReadonlySet<NodeId>> {
    let list = this.lists.get(id);
    if (list === undefined) {
      list = createWatchable<ReadonlySet<NodeId>>(new Set(), sameIds);
      this.lists.set(id, list);
    }
    return list;
  }

  private refresh(id: NodeId): void {
    const reached = this.transports.get(id)?.peers.value ?? new Set<NodeId>();
    this.listFor(id).set(new Set([...reached, ...this.cutFrom(id)].filter((other) => other !== id)));
  }
}
