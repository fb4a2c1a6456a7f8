// What a leadership transfer came to, in words a user can trust. The engine abandons a transfer
// with 'timeout' when this node stepped down without learning who leads; often the target won
// a moment later (an outside audit saw the new leader 57 ms after the red "failed"). So an
// abandoned transfer is judged by who leads shortly after, not by its error alone.
import type { NodeId, Watchable } from 'raftmesh';

/** Whether `leader` is (or within `withinMs` becomes) `target`. */
export function leaderBecomes(leader: Watchable<NodeId | null>, target: NodeId, withinMs: number): Promise<boolean> {
  if (leader.value === target) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      unsubscribe();
      resolve(false);
    }, withinMs);
    const unsubscribe = leader.subscribe((value) => {
      if (value !== target) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(true);
    });
  });
}
