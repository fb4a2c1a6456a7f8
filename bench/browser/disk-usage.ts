// What a bench process's IndexedDB holds on disk: the bytes of every file under its profile's
// IndexedDB folder (LevelDB's tables and logs, and blob files), read from the file system. The
// memory phase reads it beside each memory reading, since "flat under compaction" is a question
// for the disk as much as for the heap: a log whose discarded prefix stayed on disk, or a
// database that LevelDB never compacted, would grow with the number of commits.
import fs from 'node:fs';
import path from 'node:path';

/** Folders deeper than this, or files beyond this many, are not a Chromium profile's IndexedDB. */
const maxDepth = 8;
const maxFiles = 100_000;

/** The folder where Chromium keeps a persistent profile's IndexedDB databases (every origin). */
export function indexedDbFolder(profileDirectory: string): string {
  return path.join(profileDirectory, 'Default', 'IndexedDB');
}

/** Bytes in the files under `folder` (0 if it does not exist); symbolic links are not followed. */
export function folderBytes(folder: string): number {
  let bytes = 0;
  let files = 0;
  const visit = (directory: string, depth: number): void => {
    if (depth > maxDepth) throw new Error(`${directory}: deeper than ${maxDepth} folders, not an IndexedDB folder`);
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(directory, { withFileTypes: true });
    } catch (error) {
      // LevelDB deletes files as it compacts: one gone between the listing and here was not there.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of names) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) visit(full, depth + 1);
      else if (entry.isFile()) {
        if (++files > maxFiles) throw new Error(`${folder}: more than ${maxFiles} files, not an IndexedDB folder`);
        try {
          bytes += fs.lstatSync(full).size;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
    }
  };
  visit(folder, 0);
  return bytes;
}
