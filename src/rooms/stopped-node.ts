// What a room peer does when its node stops for good under a running room (review s52): the
// node answers nobody again, so the peer must stop looking present.
import type { Clock } from '../core/config.ts';
import type { NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import type { RoomCoordinator } from './room-coordinator.ts';
import { emitSafely, reasonOf, type RoomEvent } from './room-events.ts';
import type { Plumbing } from './room-plumbing.ts';

export interface StopWatchParts {
  readonly id: NodeId;
  readonly node: RaftNode;
  readonly clock: Clock;
  readonly coordinator: RoomCoordinator;
  readonly plumbing: Plumbing;
  /** Whether room.leave() has begun: a node it closes is no news. */
  readonly leaving: () => boolean;
  readonly onEvent?: ((event: RoomEvent) => void) | undefined;
}

/**
 * A node that stops for good while the room runs (its storage failed: a quota, a database another
 * tab deleted; its worker crashed; the application closed it) answers nobody again, while its
 * page's connections and hellos went on saying it was there and a member: the leader's policy
 * never replaced such a voter (the room stalled after one more departure) and promoted such a
 * learner (review s52). So its coordinator stops (a stopped leader keeps its last role) and its
 * connections close, which the room sees as this peer leaving; the application hears why
 * (`nodeStopped`). `room.leave()` still closes the rest.
 */
export function closeWhenNodeStops(parts: StopWatchParts): { end(): void } {
  let ended = false;
  let timer: unknown = null;
  const handle = (error: Error | null): void => {
    if (error === null || ended || timer !== null) return;
    // Deferred: `stopped` is announced inside the driver's step. A leave begun meanwhile (its
    // node.close() announces the stop too) is no news.
    timer = parts.clock.setTimeout(() => {
      if (ended || parts.leaving()) return;
      ended = true;
      unsubscribe();
      parts.coordinator.close();
      parts.plumbing.close();
      emitSafely(parts.onEvent, { type: 'nodeStopped', id: parts.id, reason: reasonOf(error), at: parts.clock.now() });
    }, 0);
  };
  const unsubscribe = parts.node.stopped.subscribe(handle);
  // Stopped before the watch began (a storage that failed while the node started).
  handle(parts.node.stopped.value);
  return {
    end() {
      ended = true;
      unsubscribe();
      if (timer !== null) parts.clock.clearTimeout(timer);
    },
  };
}
