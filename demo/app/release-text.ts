// The cluster panel's version column in words: which release of the board each member's page runs
// (peer-release.ts), and for a page whose store stopped at a newer release's entry, where and what
// it needs. Such a member still votes and acknowledges, so nothing else on its row looks wrong:
// without this a user of the newer page saw a healthy member whose board folded nothing past a
// point. The wording follows the outdated page's own banner and note (version-notes.ts).
import type { PeerRelease } from './peer-release.ts';

/** '1', '1 — outdated at entry 14 (needs version 2)', or '–' when unknown. */
export function releaseText(release: PeerRelease | null): string {
  if (release === null) return '–';
  if (release.outdated === null) return String(release.version);
  return `${release.version} — ${outdatedText(release.outdated)}`;
}

/** The mark on an outdated member's row: 'outdated at entry 14 (needs version 2)'. */
export function outdatedText(outdated: NonNullable<PeerRelease['outdated']>): string {
  return `outdated at entry ${outdated.index} (needs version ${outdated.seenVersion})`;
}

/** The cell's tooltip: what the number means, and what an outdated member still does and does not. */
export function releaseExplanation(release: PeerRelease | null): string {
  if (release === null) return 'unknown: no fresh status from it, or its page is from before pages said which version of the board they run';
  if (release.outdated === null) return `its page runs version ${release.version} of the board`;
  const { seenVersion, index } = release.outdated;
  return `its page runs version ${release.version} of the board, but entry ${index} of the log was written by version ${seenVersion}: its board stopped there and it cannot change the board until it is reloaded with the newer version (nothing is lost). Its node still votes and acknowledges.`;
}
