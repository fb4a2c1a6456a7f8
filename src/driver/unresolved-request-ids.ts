// The lowest request id among this node's unresolved proposals. The proposal tracker admits a
// proposal only while its id stays less than a window above that lowest one: a ClientSessionTable
// skips an id once the client's high-water mark is a window past it, so an unresolved proposal
// (a lost forward waiting for its retry) must never fall that far behind the ids issued after it.
// A count of unresolved proposals does not bound that distance; this does.
//
// A binary min-heap with lazy removal: ids rise in the usual case, proposals resolve roughly in
// order, and a resolved one is dropped when it reaches the top. At most `window` live entries, and
// the heap is rebuilt when stale ones outnumber them, so it stays bounded too.

export interface UnresolvedRequestIds {
  /** Records a stamped proposal's request id. */
  add(proposalId: number, requestId: number): void;
  /** The proposal resolved, failed or was abandoned. */
  remove(proposalId: number): void;
  /** The lowest request id still unresolved, or null when none is. */
  lowest(): number | null;
  clear(): void;
}

export function createUnresolvedRequestIds(): UnresolvedRequestIds {
  const live = new Map<number, number>(); // proposalId → requestId
  let heap: Array<{ readonly requestId: number; readonly proposalId: number }> = [];

  const less = (a: number, b: number): boolean => {
    const left = heap[a] as { requestId: number; proposalId: number };
    const right = heap[b] as { requestId: number; proposalId: number };
    return left.requestId < right.requestId || (left.requestId === right.requestId && left.proposalId < right.proposalId);
  };
  const swap = (a: number, b: number): void => {
    const held = heap[a] as { requestId: number; proposalId: number };
    heap[a] = heap[b] as { requestId: number; proposalId: number };
    heap[b] = held;
  };
  const siftUp = (start: number): void => {
    let position = start;
    while (position > 0) {
      const parent = (position - 1) >> 1;
      if (!less(position, parent)) return;
      swap(position, parent);
      position = parent;
    }
  };
  const siftDown = (start: number): void => {
    let position = start;
    for (;;) {
      const left = 2 * position + 1;
      const right = left + 1;
      let smallest = position;
      if (left < heap.length && less(left, smallest)) smallest = left;
      if (right < heap.length && less(right, smallest)) smallest = right;
      if (smallest === position) return;
      swap(position, smallest);
      position = smallest;
    }
  };
  const popTop = (): void => {
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    siftDown(0);
  };
  const isStale = (item: { requestId: number; proposalId: number }): boolean => live.get(item.proposalId) !== item.requestId;

  return {
    add(proposalId, requestId) {
      live.set(proposalId, requestId);
      heap.push({ requestId, proposalId });
      siftUp(heap.length - 1);
    },
    remove(proposalId) {
      if (!live.delete(proposalId)) return;
      // Stale entries below the top are dropped when the heap is rebuilt: bounded at twice the live ones.
      if (heap.length > 2 * live.size + 16) {
        heap = heap.filter((item) => !isStale(item));
        for (let position = (heap.length >> 1) - 1; position >= 0; position -= 1) siftDown(position);
      }
    },
    lowest() {
      while (heap.length > 0 && isStale(heap[0] as { requestId: number; proposalId: number })) popTop();
      return heap[0]?.requestId ?? null;
    },
    clear() {
      live.clear();
      heap = [];
    },
  };
}
