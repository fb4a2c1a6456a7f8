// What the chaos page and the Node runner exchange (plain data through page.evaluate), and the
// application's state, folded the same way on the page (for reads) and in the checker (from the
// final log), so a read's answer can be compared with the committed sequence.

export interface StartOptions {
  readonly signalingUrl: string;
  readonly roomId: string;
  readonly secret: string;
  readonly self: string;
  readonly voters: readonly string[];
  readonly storageName: string;
  /** null: identity 'auto' (plain proposals); else a durable client id (session proposals). */
  readonly durableClientId: string | null;
  /** Each node publishes a snapshot every this many applied entries (0: never compacts). */
  readonly compactEvery: number;
}

/** `reason`: a RaftStorageError's (the runner tells a database the browser deleted, 'dataLost', from other failures). */
export type CallOutcome<T> = { readonly type: 'ok'; readonly value: T } | { readonly type: 'error'; readonly name: string; readonly message: string; readonly reason?: string };

export interface ReadValue {
  readonly readIndex: number;
  readonly appliedIndex: number;
  readonly count: number;
  readonly hash: number;
}

export interface NodeStatus {
  readonly started: boolean;
  readonly role: string | null;
  readonly leader: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly peers: number;
  readonly stopped: string | null;
  /** False would make a partition leak through the worker's data channels: the runner refuses that. */
  readonly workerFaultInstalled: boolean;
  readonly compactionFloor: number;
  /** Snapshots this page's application installed (its own at a restart, or the leader's). */
  readonly installs: number;
}

/** One committed log position as a node applied it; command null for a no-op or config entry. */
export interface CommittedRecord {
  readonly index: number;
  readonly term: number | null;
  readonly command: string | null;
  readonly clientId: string | null;
  readonly requestId: number | null;
}

/** The application's state: how many commands took effect and a hash of which, in order. */
export interface AppliedState {
  readonly appliedIndex: number;
  readonly count: number;
  readonly hash: number;
}

export const initialState: AppliedState = { appliedIndex: 0, count: 0, hash: 0x811c9dc5 };

/** FNV-1a over the command's UTF-16 code units, chained: order and content both count. */
export function foldState(state: AppliedState, record: CommittedRecord, effective: boolean): AppliedState {
  if (!effective || record.command === null) return { ...state, appliedIndex: record.index };
  let hash = state.hash;
  for (let position = 0; position < record.command.length; position += 1) {
    hash ^= record.command.charCodeAt(position);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return { appliedIndex: record.index, count: state.count + 1, hash };
}
