// The edge peer's identity (node id and the claim that proves it, bootstrap configuration) in a small JSON file next to its
// Raft data, replaced atomically, so a restarted peer rejoins as the same member.
import { readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KeyValueStore } from '../index.ts';

/**
 * The file must be a JSON object of strings. Anything else (not JSON, an array, a number where an
 * id belongs, unreadable) is refused with an error naming the file: reading it as empty would mint
 * a fresh identity, and the peer would join as a second member beside the one its data belongs to.
 */
export function fileKeyValueStore(path: string): KeyValueStore {
  let values: Record<string, string> = {};
  try {
    values = parseValues(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the peer identity file ${path}: ${(error as Error).message}; restore it (or remove it together with the raft-* directories beside it to join as a new member)`);
  }
  const write = async (): Promise<void> => {
    // Durable before it is relied on (write, fsync, rename, fsync the directory): an identity lost
    // to a power cut would make the restarted peer a stranger to its own data.
    const temporary = `${path}.tmp`;
    // Owner only: beside the id it keeps the claim that proves the id to a signaling server.
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(values, null, 2));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    const directory = await open(dirname(path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  };
  // One write at a time, each of the values as they are when it starts: two at once shared the
  // temporary file (the second's open truncated what the first was writing, and the first's
  // rename took the second's away from under it), so a set could fail, or the file hold a mix.
  let writing: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    const next = writing.then(write, write);
    writing = next.catch(() => undefined);
    return next;
  };
  return {
    get: (key) => values[key] ?? null,
    set: async (key, value) => {
      values = { ...values, [key]: value };
      await save();
    },
    delete: async (key) => {
      const { [key]: _removed, ...rest } = values;
      values = rest;
      await save();
    },
  };
}

function parseValues(text: string): Record<string, string> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`it holds ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`}, not an object of strings`);
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string' || value.length === 0) throw new Error(`${key} is ${JSON.stringify(value)}, not a non-empty string`);
  }
  return parsed as Record<string, string>;
}
