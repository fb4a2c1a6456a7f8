// Which configuration is in force (§6): the latest config entry in the log, else the snapshot's,
// else the bootstrap one; adopted as soon as it is appended, committed or not.
import type { CoreState } from './core-state.ts';
import { emitTrace } from './core-output.ts';
import { createProgress } from './progress.ts';
import { createMembership } from './quorum.ts';
import type { ConfigPayload, NodeId } from './types.ts';

export function isVoter(core: CoreState, id: NodeId): boolean {
  return core.membership.allVoters.has(id);
}

export function latestConfigPayload(core: CoreState): ConfigPayload {
  for (let index = core.log.lastIndex; index > core.log.floorIndex; index -= 1) {
    const config = core.log.entryAt(index)?.config;
    if (config !== undefined) return config;
  }
  return core.snapshotConfig ?? core.bootstrapPayload;
}

export function adoptMembership(core: CoreState, payload: ConfigPayload, index: number): void {
  core.membership = createMembership(payload);
  core.removedByConfig = computeRemovedByConfig(core);
  emitTrace(core, { type: 'configChange', index, joint: payload.old !== null });
  if (core.role === 'learner' && isVoter(core, core.id)) core.role = 'follower';
  if (core.role === 'follower' && !isVoter(core, core.id)) core.role = 'learner';
  if (core.role === 'leader') {
    for (const member of core.membership.members) {
      if (member !== core.id && !core.progress.has(member)) {
        core.progress.set(member, createProgress(core.log.lastIndex + 1, core.now));
        core.departed.delete(member);
      }
    }
    // Removed members keep receiving the log until the config that removes them commits, so
    // they learn of their removal instead of campaigning (see advanceMembershipChange).
  }
}

/** The configuration in force at `index`: the latest config entry at or before it. */
export function configAt(core: CoreState, index: number): ConfigPayload {
  for (let cursor = Math.min(index, core.log.lastIndex); cursor > core.log.floorIndex; cursor -= 1) {
    const config = core.log.entryAt(cursor)?.config;
    if (config !== undefined) return config;
  }
  return core.snapshotConfig ?? core.bootstrapPayload;
}

/**
 * Whether this node, which the latest configuration in its log leaves out as a voter, may still
 * campaign: only while that configuration is uncommitted and it was a voter of the one before.
 * Seed 90198 (5 nodes): C_new reached only the two voters it demoted to learners before the
 * leader fell. Their logs, the most up to date, refused every other candidate, and they, as
 * learners, never campaigned, so no leader was ever elected again. Such a node campaigns for
 * the votes of the latest configuration, whose majority every rival needs as well (Election
 * Safety holds); it leads only until C_new commits, then steps down (advanceMembershipChange).
 */
export function mayCampaignAsOutgoingVoter(core: CoreState): boolean {
  const configIndex = latestConfigIndex(core);
  if (configIndex <= core.commitIndex || configIndex <= core.log.floorIndex) return false;
  return createMembership(configBefore(core, configIndex)).allVoters.has(core.id);
}

/** The configuration in effect just before the config entry at `index`. */
function configBefore(core: CoreState, index: number): ConfigPayload {
  for (let earlier = index - 1; earlier > core.log.floorIndex; earlier -= 1) {
    const config = core.log.entryAt(earlier)?.config;
    if (config !== undefined) return config;
  }
  return core.snapshotConfig ?? core.bootstrapPayload;
}

/** Index of the latest config entry in the log, or the floor when the config predates it. */
export function latestConfigIndex(core: CoreState): number {
  return Math.max(core.configEntryIndex, core.log.floorIndex);
}

export function findLatestConfigEntry(core: CoreState): number {
  for (let index = core.log.lastIndex; index > core.log.floorIndex; index -= 1) {
    if (core.log.entryAt(index)?.config !== undefined) return index;
  }
  return 0;
}

/**
 * Only a configuration after one that had this node in counts as its removal: a newcomer
 * catching up appends the configurations from before its admission, which leave it out too.
 */
export function computeRemovedByConfig(core: CoreState): boolean {
  if (core.membership.members.has(core.id)) return false;
  for (let index = core.configEntryIndex - 1; index > core.log.floorIndex; index -= 1) {
    const config = core.log.entryAt(index)?.config;
    if (config !== undefined && createMembership(config).members.has(core.id)) return true;
  }
  // The snapshot's configuration is an earlier one only while the latest is in the log.
  return core.configEntryIndex > core.log.floorIndex && core.snapshotConfig !== null && createMembership(core.snapshotConfig).members.has(core.id);
}
