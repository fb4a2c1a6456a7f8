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
  /** Keeps `name` for `id`; writes only when it changed, since gossip repeats every half second. */
  remember(id: string, name: string): void;
}

/** A room's members over its life: enough for any board people share, bounded against a flood. */
export const maxRememberedNames = 64;
/** As settings.ts caps this page's own name. */
const maxNameLength = 64;

export function rememberedNamesKey(room: string): string {
  return `raftmesh-demo:names:${room}`;
}

export function createRememberedNames(storage: NameStorage, room: string): RememberedNames {
  const key = rememberedNamesKey(room);
  // Oldest first, so the most recently heard member is last and the first to go is the longest silent.
  const names = new Map<string, string>(readStored(storage, key));
  return {
    get: (id) => names.get(id),
    remember(id, name) {
      const trimmed = name.trim().slice(0, maxNameLength);
      if (trimmed === '' || names.get(id) === trimmed) return;
      names.delete(id);
      names.set(id, trimmed);
      while (names.size > maxRememberedNames) names.delete(names.keys().next().value as string);
      try {
        storage.setItem(key, JSON.stringify([...names]));
      } catch {
        // A full or disabled storage costs the names after a reload, nothing else.
      }
    },
  };
}

/** What an earlier page stored, keeping only well-formed pairs: the profile's storage is not ours alone. */
function readStored(storage: NameStorage, key: string): [string, string][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(storage.getItem(key) ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const pairs = parsed.filter((pair): pair is [string, string] => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string' && pair[1].trim() !== '');
  return pairs.slice(-maxRememberedNames).map(([id, name]) => [id, name.trim().slice(0, maxNameLength)]);
}
