// What the page shows and the tests drive, in one place: the board (optimistic and confirmed),
// a row per cluster member (from this node and the peers' status gossip), a timeline of
// elections, membership changes and members going silent, and errors in words.
import type { ClusterConfig, NodeId, RaftNode } from 'raftmesh';
import type { BoardCommand, BoardState } from '../board/board-state.ts';
import { shortId } from './connection-banner.ts';
import type { MemberConnection } from './connection-text.ts';
import { createLastHeard, silentAfterMs } from './last-heard.ts';
import { watchSilences } from './silence-notes.ts';
import type { PartitionSwitch } from './partition-switch.ts';
import { recordStatus, type HeardStatus } from './heard-statuses.ts';
import { createOutdatedPeerNotes } from './outdated-peer-notes.ts';
import type { PeerRelease } from './peer-release.ts';
import type { RememberedNames } from './remembered-names.ts';
import type { Wording } from './timeline-text.ts';

/** A member as the panel shows it; its connection and silence as in connection-text.ts. */
export interface ClusterRow extends MemberConnection {
  readonly id: string;
  readonly name: string;
  readonly self: boolean;
  readonly membership: 'voter' | 'learner' | 'not a member';
  readonly role: string;
  readonly term: number | null;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  readonly isLeader: boolean;
  /** Entries behind the most advanced peer we know of; null when unknown. */
  readonly lag: number | null;
  /**
   * The release of the board its page runs, and where its store stopped if it met a newer one;
   * null when unknown (no fresh gossip, or a page from before releases were gossiped).
   */
  readonly release: PeerRelease | null;
}

export interface TimelineEntry {
  readonly at: number;
  readonly kind: 'election' | 'membership' | 'connection' | 'error' | 'info';
  readonly text: string;
}

export type DispatchOutcome = { readonly ok: true; readonly index: number } | { readonly ok: false; readonly error: string };

export interface StoreLike {
  readonly state: { readonly value: BoardState };
  readonly optimisticState: { readonly value: BoardState };
  readonly appliedIndex: { readonly value: number; subscribe(listener: (value: number) => void): () => void };
  subscribe(listener: (state: BoardState) => void): () => void;
  dispatch(command: BoardCommand): Promise<{ index: number }>;
  read(): Promise<BoardState>;
}

const maxTimeline = 200;
const maxErrors = 20;
/** Gossip older than this is not shown: the silence threshold, so a member's role turns unknown as it turns silent. */
const statusStaleMs = silentAfterMs;

export interface DemoModelOptions {
  readonly node: () => RaftNode;
  readonly store: () => StoreLike;
  readonly partition: PartitionSwitch;
  readonly selfName: string;
  /**
   * This page's release now: the version its board store runs and where the store stopped, if it
   * did (its own row, and whether another member's stop is one this page folds past).
   */
  readonly release: () => PeerRelease;
  /**
   * Names heard before, kept across reloads (remembered-names.ts): a member that is not reachable
   * now sends no gossip, and without them its row and timeline entries read as a short id.
   */
  readonly rememberedNames?: RememberedNames;
  /** The clock for gossip freshness and silences (`Date.now` unless a test fakes it). */
  readonly now?: () => number;
}

export function createDemoModel(options: DemoModelOptions) {
  const now = options.now ?? Date.now;
  /** Worded when drawn (timeline-text.ts): names arrive by gossip after the events naming them. */
  const timeline: { readonly at: number; readonly kind: TimelineEntry['kind']; readonly wording: Wording }[] = [];
  const errors: string[] = [];
  const statuses = new Map<string, HeardStatus>();
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of [...listeners]) listener();
  };
  const note = (kind: TimelineEntry['kind'], text: string | Wording): void => {
    timeline.push({ at: now(), kind, wording: typeof text === 'string' ? () => text : text });
    if (timeline.length > maxTimeline) timeline.splice(0, timeline.length - maxTimeline);
    if (kind === 'error') {
      errors.push(typeof text === 'string' ? text : text(nameOf));
      if (errors.length > maxErrors) errors.splice(0, errors.length - maxErrors);
    }
    changed();
  };
  const isMember = (id: string): boolean => {
    const config = options.node().membership.value;
    return config.voters.includes(id as NodeId) || (config.learners?.includes(id as NodeId) ?? false);
  };
  const outdatedPeerNote = createOutdatedPeerNotes();
  options.partition.statuses.subscribe(({ from, status }) => {
    recordStatus(statuses, from, status, now(), isMember);
    options.rememberedNames?.remember(from, status.name, now());
    const outdated = outdatedPeerNote(from, status.release, options.release().version);
    // note() announces the change itself.
    if (outdated === null) changed();
    else note('info', outdated);
  });
  const lastHeard = createLastHeard({ frames: options.partition.frames, reachable: options.partition.peers, now });
  const silences = watchSilences({ frames: options.partition.frames, reachable: options.partition.peers, lastHeard, note: (wording) => note('connection', wording) });
  const connectionOf = (id: string, self: boolean): MemberConnection => {
    if (self) return { connection: 'this page', silentForMs: null };
    const heardMsAgo = lastHeard.heardMsAgo(id as NodeId);
    if (heardMsAgo === null) return { connection: 'unreachable', silentForMs: null };
    return heardMsAgo >= silentAfterMs ? { connection: 'silent', silentForMs: heardMsAgo } : { connection: 'connected', silentForMs: null };
  };

  /** What a member's gossip last called it on this page, or on an earlier one of this profile. */
  const heardName = (id: string): string | undefined => statuses.get(id)?.name ?? options.rememberedNames?.get(id);
  /** A member's display name, or a short id while none was ever heard. */
  const nameOf = (id: string): string => (id === options.node().id ? options.selfName : (heardName(id) ?? shortId(id)));

  const cluster = (): ClusterRow[] => {
    silences.check();
    const node = options.node();
    const config: ClusterConfig = node.membership.value;
    const voters = new Set<string>(config.voters);
    const learners = new Set<string>(config.learners ?? []);
    const reachable = options.partition.peers.value;
    const at = now();
    const applied = options.store().appliedIndex.value;
    const ids = new Set<string>([node.id, ...voters, ...learners, ...[...statuses.keys()].filter((id) => reachable.has(id as NodeId))]);
    // What a member said of itself counts while it is fresh and the member reachable: a page that
    // closed kept its row's last words ("leader … 164 behind") for seconds after (an outside audit).
    const current = (id: string, entry: { readonly at: number } | undefined): boolean => entry !== undefined && at - entry.at < statusStaleMs && reachable.has(id as NodeId);
    const known = [...statuses].filter(([id, entry]) => current(id, entry)).map(([, entry]) => entry.status.appliedIndex);
    const newest = Math.max(applied, ...known);
    // A leader knows how far each follower's log matches its own, now; the gossip is up to half a
    // second old, which under steady writes reads as a lag that is not there.
    const matched = node.role.value === 'leader' ? (node.replicationProgress?.() ?? null) : null;
    const lagOf = (id: string, appliedIndex: number | null): number | null => {
      const match = matched?.get(id as NodeId);
      if (match !== undefined) return Math.max(0, node.commitIndex.value - match);
      return appliedIndex === null ? null : newest - appliedIndex;
    };
    const rows = [...ids].map((id): ClusterRow => {
      const self = id === node.id;
      const fresh = statuses.get(id);
      const status = self || fresh === undefined || !current(id, fresh) ? null : fresh.status;
      const membership = voters.has(id) ? 'voter' : learners.has(id) ? 'learner' : 'not a member';
      const appliedIndex = self ? applied : (status?.appliedIndex ?? null);
      return {
        id,
        name: self ? options.selfName : (heardName(id) ?? ''),
        self,
        membership,
        role: self ? (node.stopped.value === null ? node.role.value : 'stopped') : (status?.role ?? 'unknown'),
        term: self ? node.term.value : (status?.term ?? null),
        commitIndex: self ? node.commitIndex.value : (status?.commitIndex ?? null),
        appliedIndex,
        isLeader: node.leader.value === id,
        ...connectionOf(id, self),
        lag: lagOf(id, appliedIndex),
        release: self ? options.release() : (status?.release ?? null),
      };
    });
    // By name, as people look for each other; by id while a name has not arrived yet.
    const key = (row: ClusterRow): string => row.name || row.id;
    return rows.sort((left, right) => key(left).localeCompare(key(right)) || (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
  };

  return {
    /** The timeline as it reads now, oldest first (silences reached since the last look noted first). */
    timeline: (): TimelineEntry[] => {
      silences.check();
      return timeline.map(({ at, kind, wording }) => ({ at, kind, text: wording(nameOf) }));
    },
    errors,
    note,
    nameOf,
    cluster,
    onChange(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    changed,
    async dispatch(command: BoardCommand): Promise<DispatchOutcome> {
      try {
        const result = await options.store().dispatch(command);
        return { ok: true, index: result.index };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        note('error', `${describeCommand(command)} failed: ${message}`);
        return { ok: false, error: message };
      }
    },
  };
}

export type DemoModel = ReturnType<typeof createDemoModel>;

export function describeCommand(command: BoardCommand): string {
  switch (command.type) {
    case 'addTask':
      return `adding "${command.title}"`;
    case 'claimTask':
      return 'claiming a task';
    case 'releaseTask':
      return 'releasing a task';
    case 'completeTask':
      return 'completing a task';
    case 'removeTask':
      return 'removing a task';
    case 'increment':
      return 'incrementing the counter';
    case 'say':
      return 'sending a message';
    case 'acquireLock':
      return 'taking the lock';
    case 'releaseLock':
      return 'releasing the lock';
    case 'takeOverLock':
      return 'taking the lock over';
  }
}
