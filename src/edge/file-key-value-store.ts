// The edge peer's identity (node id, bootstrap configuration) in a small JSON file next to its
// Raft data, replaced atomically, so a restarted peer rejoins as the same member.
import { readFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import type { KeyValueStore } from '../index.ts';

export function fileKeyValueStore(path: string): KeyValueStore {
  let values: Record<string, string> = {};
  try {
    values = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the peer identity file ${path}: ${(error as Error).message}`);
  }
  const save = async (): Promise<void> => {
    const temporary = `${path}.tmp`;
    await writeFile(temporary, JSON.stringify(values, null, 2));
    await rename(temporary, path);
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
