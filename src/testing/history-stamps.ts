// Times for a recorded history: readings of one clock, made strictly increasing in the order they
// are taken. The linearizability checker counts a call and a return at one time as concurrent
// (right for a coarse clock), but on the virtual clock many things happen at one reading: a client
// calls its next operation at the very millisecond its previous one returned, and another client's
// call at that millisecond may come before or after that return. The simulation runs on one
// thread, so the order the stamps are taken in is the order things happened; a tie is broken by
// one ulp, so the stamps stay the clock's readings to the eye.

/** A stamp source over `now`: each stamp is now(), or just above the previous stamp if now() has not passed it. */
export function createHistoryStamps(now: () => number): () => number {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const reading = now();
    last = reading > last ? reading : nextAbove(last);
    return last;
  };
}

/** The smallest double above a finite `value`. */
export function nextAbove(value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`nextAbove: a finite number is needed, got ${value}`);
  if (value === 0) return Number.MIN_VALUE;
  // Made here, not once at load: the package declares which of its modules run statements at
  // load (package.json sideEffects), and a testing helper must not be one of them.
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, value);
  const raw = bits.getBigUint64(0);
  // Doubles of one sign are ordered as their bit patterns: up in magnitude above 0, down below.
  bits.setBigUint64(0, value > 0 ? raw + 1n : raw - 1n);
  return bits.getFloat64(0);
}
