// When the rooms campaign holds a scheduled leave back. A voter that leaves asks the leader to
// remove it first, but that removal needs a majority of the configuration without it as well
// (joint consensus), and a tab closes whether or not it committed. So a leave while another voter
// is gone for good (its tab killed with its database lost, so it returns under a fresh id) left
// both in the configuration: two of three voters that never come back, and no leader can be
// elected again. Seed 46 did so now and then (tab-2 left 3.6 s after tab-1's database loss,
// 2026-12-07), and failed convergence; no membership rule can recover a room from that, so the
// schedule must not ask for it.

/**
 * Why `leaving` must not leave now, or null: it is a voter, and the voters other than it that some
 * live tab or peer runs now (`liveIds`) are fewer than a majority of the configuration.
 */
export function leaveWithoutMajorityReason(voters: readonly string[], leaving: string, liveIds: readonly string[]): string | null {
  if (!voters.includes(leaving)) return null;
  const live = voters.filter((voter) => voter !== leaving && liveIds.includes(voter));
  const majority = Math.floor(voters.length / 2) + 1;
  if (live.length >= majority) return null;
  return `${leaving} is one of ${voters.length} voters [${voters.join(', ')}], and without it ${live.length} live voter(s) cannot make a majority of ${majority}: its removal could not commit, and a voter gone for good would strand the room`;
}
