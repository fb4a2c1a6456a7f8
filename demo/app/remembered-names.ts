// Names heard in a room's status gossip, kept in the browser profile. Gossip arrives only from
// members that are reachable now, so a page reloaded after the others closed named them by a
// short id; with the names remembered it shows the names it last heard.

/** The part of `localStorage` this needs (a test hands in a Map-backed one). */
export interface NameStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface RememberedNames {
  /** The name last heard from `id` in this room, on this page or an earlier one. */
  get(id: string): string | undefined;
  /** Keeps `name` for `id`, heard at `now`; writes only when something worth keeping changed. */
  remember(id: string, name: string, now?: number): void;
}

/** A room's members over its life: enough for any board people share, bounded against a flood. */
export const maxRememberedNames = 64;
/**
 * A member heard again under the same name is written at most this often: gossip repeats every
 * half second, and what the time is for (forgetting the longest unheard first) needs only minutes.
 */
export const heardAgainWriteMs = 60_000;
/** As settings.ts caps this page's own name. */
const maxNameLength = 64;

/** A peer's name as pages show it: trimmed and cut as this page's own; blank (or not a string) is none. */
export function displayName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  const trimmed = name.trim().slice(0, maxNameLength);
  return trimmed === '' ? undefined : trimmed;
}

interface Heard {
  readonly name: string;
  readonly heardAt: number;
}

export function rememberedNamesKey(room: string): string {
  return `raftmesh-demo:names:${room}`;
}

export function createRememberedNames(storage: NameStorage, room: string): RememberedNames {
  const key = rememberedNamesKey(room);
  let names = readStored(storage, key);
  return {
    get: (id) => names.get(id)?.name,
    remember(id, name, now = Date.now()) {
      const trimmed = displayName(name); // gossip is display-only JSON from peers
      if (trimmed === undefined) return;
      const known = names.get(id);
      const heard: Heard = { name: trimmed, heardAt: now };
      if (known !== undefined && known.name === trimmed && now - known.heardAt < heardAgainWriteMs) return;
      // Other tabs of this profile in the same room write here too: merged with what they
      // stored since this page read it, not written over it.
      const merged = readStored(storage, key);
      for (const [other, entry] of names) if ((merged.get(other)?.heardAt ?? Number.NEGATIVE_INFINITY) < entry.heardAt) merged.set(other, entry);
      merged.set(id, heard);
      names = newest(merged);
      try {
        storage.setItem(key, JSON.stringify([...names].map(([member, entry]) => [member, entry.name, entry.heardAt])));
      } catch {
        // A full or disabled storage costs the names after a reload, nothing else.
      }
    },
  };
}

/** The `maxRememberedNames` most recently heard: the longest unheard are forgotten first. */
function newest(names: ReadonlyMap<string, Heard>): Map<string, Heard> {
  return new Map([...names].sort(([, left], [, right]) => right.heardAt - left.heardAt).slice(0, maxRememberedNames));
}

/** What pages stored, keeping only well-formed records: the profile's storage is not ours alone. */
function readStored(storage: NameStorage, key: string): Map<string, Heard> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(storage.getItem(key) ?? '[]');
  } catch {
    return new Map();
  }
  if (!Array.isArray(parsed)) return new Map();
  const names = new Map<string, Heard>();
  for (const record of parsed) {
    if (!Array.isArray(record) || record.length !== 3) continue;
    const [id, name, heardAt] = record as unknown[];
    if (typeof id !== 'string' || typeof heardAt !== 'number' || !Number.isFinite(heardAt)) continue;
    const trimmed = displayName(name);
    if (trimmed !== undefined) names.set(id, { name: trimmed, heardAt });
  }
  return newest(names);
}
