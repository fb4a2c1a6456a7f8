// Records every fsync of a directory, for tests that check a created directory's entry is made
// durable in its parent. A test mocks node:fs/promises with `recordingDirectorySyncs` and reads
// `directoriesSynced`; this file imports nothing from node:fs/promises itself (it is the mocked
// module), and the file system stays the real one.
import { resolve } from 'node:path';
import type * as FileSystem from 'node:fs/promises';

/** Absolute paths of the directories fsynced since the last `forgetDirectorySyncs`, in order. */
export const directoriesSynced: string[] = [];

export function forgetDirectorySyncs(): void {
  directoriesSynced.length = 0;
}

/** `actual` with `open` wrapped: a handle's sync() of a directory is recorded once it resolves. */
export function recordingDirectorySyncs(actual: typeof FileSystem): typeof FileSystem {
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const [path] = args;
      const sync = handle.sync.bind(handle);
      Object.assign(handle, {
        sync: async () => {
          await sync();
          if (typeof path === 'string' && (await handle.stat()).isDirectory()) directoriesSynced.push(resolve(path));
        },
      });
      return handle;
    },
  };
}
