// When the harness may stop waiting after the final heal: every live member reports the same
// applied list, configuration and leader, and the configuration is what the policy wants for the
// members present. The checker judges the same things again from the history; this only decides
// when to look (a wait, bounded by the caller, never a verdict).
import { expectedVoterCount } from './checker.ts';
import type { ChaosPeerStatus } from './page-api.ts';

export interface MemberView {
  readonly tab: string;
  readonly status: ChaosPeerStatus;
}

export interface EdgeView {
  readonly id: string;
  readonly leader: string | null;
}

/** Null when converged, else what is still missing. */
export function notConvergedBecause(members: readonly MemberView[], edge: EdgeView | null, targetVoters: number): string | null {
  const first = members[0];
  if (first === undefined) return 'no live member';
  const present = new Set(members.map((member) => member.status.id));
  if (edge !== null) present.add(edge.id);
  for (const member of members) {
    if (member.status.length !== first.status.length || member.status.digest !== first.status.digest) return `${member.tab} holds ${member.status.length} ids, ${first.tab} ${first.status.length}`;
    if (member.status.voters.join() !== first.status.voters.join() || member.status.learners.join() !== first.status.learners.join()) return `${member.tab} and ${first.tab} see different configurations`;
    if (member.status.leader === null || member.status.leader !== first.status.leader) return `${member.tab} follows ${member.status.leader ?? 'no leader'}, ${first.tab} ${first.status.leader ?? 'none'}`;
  }
  if (edge !== null && edge.leader !== first.status.leader) return `the edge peer follows ${edge.leader ?? 'no leader'}`;
  const configured = [...first.status.voters, ...first.status.learners];
  const strangers = configured.filter((id) => !present.has(id));
  if (strangers.length > 0) return `still configured but not running: ${strangers.join(', ')}`;
  const missing = [...present].filter((id) => !configured.includes(id));
  if (missing.length > 0) return `running but not configured: ${missing.join(', ')}`;
  const expected = expectedVoterCount(present.size, targetVoters);
  if (first.status.voters.length !== expected) return `${first.status.voters.length} voters, the policy wants ${expected}`;
  return null;
}
