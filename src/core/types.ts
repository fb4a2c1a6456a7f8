// Public value types of raftmesh (API.md "Identities and values"). Pure data, no behaviour
// beyond validating constructors, so core, codec, driver and adapters can all share them.

export type NodeId = string & { readonly __brand: 'NodeId' };
export type ClientId = string & { readonly __brand: 'ClientId' };

/** Longest id we accept: ids travel in every frame and key storage, so they are bounded. */
export const maxIdLength = 256;

/**
 * Most voters, and most learners, one configuration may list (each list separately). The codec
 * decodes no longer list, so a configuration past it would be appended by a leader and then
 * dropped as undecodable by every follower, wedging replication at its entry: refused up front
 * instead. It lives here, not in the codec's limits, because core must not import the codec.
 */
export const maxConfigMembers = 1_000;

function validateId(kind: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new RangeError(`${kind} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  if (value.length > maxIdLength) {
    throw new RangeError(`${kind} must be at most ${maxIdLength} characters, got ${value.length}`);
  }
  // Ids travel inside frames and storage records as UTF-8: a lone surrogate would be encoded as
  // U+FFFD and come back as another id (a voter named one way here and another way elsewhere).
  if (hasLoneSurrogate(value)) {
    throw new RangeError(`${kind} must be well-formed text (a lone UTF-16 surrogate cannot be sent as UTF-8), got ${JSON.stringify(value)}`);
  }
}

/**
 * Whether text holds an unpaired UTF-16 surrogate, which UTF-8 cannot carry (it becomes U+FFFD).
 * In a `u` pattern a surrogate pair is one code point, so only unpaired halves match. Exported
 * for the signaling layers, which admit only ids that are valid NodeIds.
 */
export function hasLoneSurrogate(value: string): boolean {
  return loneSurrogate.test(value);
}

const loneSurrogate = /\p{Cs}/u;

export function nodeId(value: string): NodeId {
  validateId('NodeId', value);
  return value as NodeId;
}

export function clientId(value: string): ClientId {
  validateId('ClientId', value);
  return value as ClientId;
}

export interface ClusterConfig {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
}

/** Joint (§6) when `old` is not null. */
export interface ConfigPayload {
  readonly old: ClusterConfig | null;
  readonly new: ClusterConfig;
}

export interface DedupKey {
  readonly clientId: ClientId;
  readonly requestId: number;
}

export interface LogEntry {
  readonly index: number;
  readonly term: number;
  readonly command: Uint8Array;
  readonly isNoOp: boolean;
  readonly config?: ConfigPayload;
  readonly dedupKey?: DedupKey;
}

export interface Snapshot {
  readonly throughIndex: number;
  readonly state: Uint8Array;
}

export interface SnapshotMeta {
  readonly lastIncludedIndex: number;
  readonly lastIncludedTerm: number;
  readonly config?: ConfigPayload;
}

export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  readonly state: Uint8Array;
}

export interface RaftEnvelope {
  readonly from: NodeId;
  readonly bytes: Uint8Array;
}

export type RaftRole = 'follower' | 'candidate' | 'leader' | 'learner';

export type Committed =
  | { readonly type: 'entry'; readonly entry: LogEntry }
  | { readonly type: 'internal'; readonly index: number }
  | { readonly type: 'install'; readonly snapshot: Snapshot };

export type ClientIdentity =
  | { readonly type: 'auto' }
  | { readonly type: 'durable'; readonly clientId: ClientId }
  /** No dedup keys at all: for applications whose commands are idempotent by themselves. */
  | { readonly type: 'none' };

export type VoteDenialReason = 'staleTerm' | 'alreadyVoted' | 'logNotUpToDate' | 'leaderAlive';

export type StepDownReason =
  | 'higherTermObserved'
  | 'appendEntriesFromLeader'
  | 'lostQuorum'
  | 'removedFromConfig';

/**
 * Why a leadership transfer was abandoned. `neverLeads`: the target is a witness
 * (RaftConfig.witness), which never campaigns; the leader knows from the target's own answers,
 * so the call fails at once rather than at its deadline as `timeout`.
 */
export type TransferAbandonReason = 'timeout' | 'cancelled' | 'notVoter' | 'leadershipLost' | 'neverLeads';

/** Largest integer a term or index may take: beyond it JavaScript numbers lose precision. */
export const maxSafeCounter = Number.MAX_SAFE_INTEGER;

export function isValidCounter(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * The highest log index a peer can make this node hold (SPEC "Untrusted peers", ranges): an
 * AppendEntries reaching past it, a snapshot through a later index, or an answer naming one (a
 * forward appended there, a read index) is refused. Counters are safe integers, but a log ending
 * at 2^53-1 would make `lastIndex + 1` (a conflict hint, a leader's next index, its next entry)
 * lose precision; the encoder then throws. 2^52 is never reached honestly (4.5e15 entries: 142
 * years at a million a second), and it leaves 2^52 indices of headroom: this node admits no
 * proposal or forward at or past it (`overloaded`), so what it appends beyond it as leader is only
 * a no-op per election, configuration entries per membership change and its own callers' held
 * proposals, never near enough to run out.
 */
export const maxLogIndex = 2 ** 52;

/** Validates a ClusterConfig per API.md: at least one voter, no duplicates, no overlap, bounded lists. */
export function validateClusterConfig(config: ClusterConfig): ClusterConfig {
  // Callers outside TypeScript (a parsed setting, a saved room) reach here too. The shape is
  // checked before anything is iterated: a string is iterable, so voters: 'abc' would otherwise
  // be taken for the three voters a, b and c.
  if (typeof config !== 'object' || config === null) {
    throw new RangeError(`ClusterConfig must be an object { voters, learners? }, got ${config === null ? 'null' : typeof config}`);
  }
  if (!Array.isArray(config.voters)) {
    throw new RangeError(`ClusterConfig.voters must be an array of node ids, got ${describeShape(config.voters)}`);
  }
  if (config.learners !== undefined && !Array.isArray(config.learners)) {
    throw new RangeError(`ClusterConfig.learners must be an array of node ids when given, got ${describeShape(config.learners)}`);
  }
  const voters = config.voters;
  const learners = config.learners ?? [];
  if (voters.length === 0) throw new RangeError('ClusterConfig.voters must name at least one voter');
  for (const [list, ids] of [['voters', voters], ['learners', learners]] as const) {
    if (ids.length > maxConfigMembers) {
      throw new RangeError(`ClusterConfig.${list} lists ${ids.length} node ids; a configuration lists at most ${maxConfigMembers} voters and ${maxConfigMembers} learners (the wire format's bound: a larger one could not be replicated)`);
    }
  }
  const seen = new Set<string>();
  for (const id of [...voters, ...learners]) {
    validateId('NodeId', id);
    if (seen.has(id)) {
      throw new RangeError(`ClusterConfig names ${JSON.stringify(id)} twice (voters and learners must be disjoint, without duplicates)`);
    }
    seen.add(id);
  }
  return learners.length === 0 ? { voters: [...voters] } : { voters: [...voters], learners: [...learners] };
}

/**
 * A configuration as plain data: fresh arrays, nothing else. For a message (what a caller hands over
 * may be a Proxy, a reactive store's object: Vue's reactive(), MobX, which structured cloning
 * refuses with a DataCloneError where createRaftNode simply reads it) and for an answer a caller
 * may keep without sharing the arrays of what it was read from.
 */
export function plainClusterConfig(config: ClusterConfig): ClusterConfig {
  return config.learners === undefined ? { voters: [...config.voters] } : { voters: [...config.voters], learners: [...config.learners] };
}

/** What a caller passed where an array belongs, for the message: its type, and a string quoted. */
function describeShape(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return typeof value;
}
