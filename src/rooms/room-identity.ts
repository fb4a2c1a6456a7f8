// A peer's node id in a room survives reloads: minted once, kept in a small key-value store
// (localStorage by default, IndexedDB or anything else by injection), so a reloaded tab comes
// back as the same member with its log instead of joining as a stranger.
import type { ClusterConfig, NodeId } from '../core/types.ts';
import { nodeId, validateClusterConfig } from '../core/types.ts';
import { claimedNodeId, claimProvesNodeId, isClaimedNodeId, mintNodeClaim } from '../signaling/node-claim.ts';

export interface KeyValueStore {
  get(key: string): string | null | Promise<string | null>;
  set(key: string, value: string): void | Promise<void>;
  delete(key: string): void | Promise<void>;
}

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** localStorage where it exists (browsers), else an in-memory map (the id then lasts one process). */
export function defaultKeyValueStore(): KeyValueStore {
  const local = (globalThis as { localStorage?: StorageLike }).localStorage;
  if (local !== undefined) return { get: (key) => local.getItem(key), set: (key, value) => local.setItem(key, value), delete: (key) => local.removeItem(key) };
  return memoryKeyValueStore();
}

export function memoryKeyValueStore(): KeyValueStore {
  const values = new Map<string, string>();
  return { get: (key) => values.get(key) ?? null, set: (key, value) => void values.set(key, value), delete: (key) => void values.delete(key) };
}

export const identityKey = (room: string): string => `raftmesh:room:${room}:node-id`;

/** 64 random bits as hex: an unclaimed id, as minted before claims (see mintNodeIdentity). */
export function mintNodeId(random: () => number = cryptoRandom): NodeId {
  let hex = '';
  for (let position = 0; position < 4; position += 1) hex += Math.floor(random() * 0x10000).toString(16).padStart(4, '0');
  return nodeId(`peer-${hex}`);
}

function cryptoRandom(): number {
  const crypto = (globalThis as { crypto?: { getRandomValues(array: Uint32Array): Uint32Array } }).crypto;
  if (crypto === undefined) return Math.random();
  return crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32;
}

/** A node id and the claim that proves it to a signaling server (node-claim.ts); null for an unclaimed id. */
export interface NodeIdentity {
  readonly id: NodeId;
  readonly claim: string | null;
}

/** A fresh claimed id: a claim from `random` (default `crypto.getRandomValues`) and the id it names. */
export function mintNodeIdentity(random?: () => number): NodeIdentity {
  const claim = mintNodeClaim(random);
  return { id: nodeId(claimedNodeId(claim)), claim };
}

/**
 * Each claim is kept under its own id's key, so no crash between two writes can leave an id
 * beside another id's claim (an id without its claim is refused by every server, for good).
 */
const claimKey = (room: string, id: NodeId): string => `raftmesh:room:${room}:node-claim:${id}`;

/** Saves a new identity: its claim first, then the id that needs it. */
export async function saveNodeIdentity(store: KeyValueStore, room: string, identity: NodeIdentity): Promise<void> {
  if (identity.claim !== null) await store.set(claimKey(room, identity.id), identity.claim);
  await store.set(identityKey(room), identity.id);
}

/** Forgets the claim of an id given up for good (a fresh id replaced it). */
export async function forgetNodeClaim(store: KeyValueStore, room: string, id: NodeId): Promise<void> {
  if (isClaimedNodeId(id)) await store.delete(claimKey(room, id));
}

/** The stored claim of `id`, if it has one that proves it; null for an unclaimed id. */
export async function loadNodeClaim(store: KeyValueStore, room: string, id: NodeId): Promise<string | null> {
  if (!isClaimedNodeId(id)) return null;
  const claim = await store.get(claimKey(room, id));
  return claim !== null && claimProvesNodeId(claim, id) ? claim : null;
}

/** Whether `id` is claimed and the store holds no claim that proves it (no server would admit it). */
export async function claimLost(store: KeyValueStore, room: string, id: NodeId): Promise<boolean> {
  return isClaimedNodeId(id) && (await loadNodeClaim(store, room, id)) === null;
}

/** The saved node id of this room, or a fresh claimed one, saved with its claim. */
export async function loadOrMintNodeId(store: KeyValueStore, room: string, random?: () => number): Promise<NodeId> {
  return (await loadOrMintNodeIdentity(store, room, random)).id;
}

/** As loadOrMintNodeId, saying whether the id was minted by this call (then no node has run under it). */
export async function loadOrMintNodeIdentity(store: KeyValueStore, room: string, random?: () => number): Promise<{ readonly id: NodeId; readonly minted: boolean }> {
  const saved = await store.get(identityKey(room));
  if (saved !== null && saved.length > 0) return { id: nodeId(saved), minted: false };
  const minted = mintNodeIdentity(random);
  await saveNodeIdentity(store, room, minted);
  return { id: minted.id, minted: true };
}

export const bootstrapKey = (room: string): string => `raftmesh:room:${room}:bootstrap`;

/**
 * The bootstrap configuration a peer started with is saved beside its id: until the log holds a
 * configuration entry (the first membership change writes one) it is the only record of which
 * cluster the log belongs to, and a reload must start the node with the same one. It is saved
 * before any node of the room starts on this store (and never deleted), so a store without one
 * has never started a node in the room: an id it holds has never voted or acknowledged anything
 * (discover-cluster.ts, `neverRanNode`).
 */
export async function loadBootstrap(store: KeyValueStore, room: string): Promise<ClusterConfig | null> {
  const saved = await store.get(bootstrapKey(room));
  if (saved === null) return null;
  try {
    return validateClusterConfig(JSON.parse(saved) as ClusterConfig);
  } catch {
    return null;
  }
}

export async function saveBootstrap(store: KeyValueStore, room: string, config: ClusterConfig): Promise<void> {
  await store.set(bootstrapKey(room), JSON.stringify(config));
}
