// Raft's order on logs (§5.4.1): of two logs, the one whose last entry has the later term is
// more up to date; with equal last terms, the longer one is. Votes, and a witness's catch-up
// offers and their receipt, all decide by it.

/** Negative, zero or positive as the log ending at (aTerm, aIndex) is behind, level with or ahead of the one ending at (bTerm, bIndex). */
export function compareLogEnds(aTerm: number, aIndex: number, bTerm: number, bIndex: number): number {
  return aTerm !== bTerm ? aTerm - bTerm : aIndex - bIndex;
}
