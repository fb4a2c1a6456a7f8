// Files replaced whole: write a temporary file, fsync it, rename it over the old one, fsync the
// directory (so the rename itself is durable). A crash leaves the old file or the new one.
//
// Each write has a temporary file of its own (`snapshot.<uuid>.tmp`): under one fixed name, a
// holder that lost its directory's lock in the middle of a write shared the new owner's temporary
// file of the same name, wrote into it, and removed it when its own rename was refused (a review,
// 2026-12-07). Leftovers of a crash are removed at open (removeStaleTemporaries).
import { randomUUID } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeWhole } from './file-chunks.ts';

export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Asked right before the rename, once the new file is written (which may take long): throwing
 * leaves the old file in place. The file storage confirms there that it still holds its
 * directory's lock, so a lock lost during a long write never lets its rename replace the new
 * owner's file.
 */
export type BeforeRename = () => Promise<void>;

/** Replaces `name` in `directory` by `contents` (or its pieces, written in turn), durably when `sync`. */
export async function replaceFile(directory: string, name: string, contents: Uint8Array | Iterable<Uint8Array>, sync: boolean, beforeRename?: BeforeRename): Promise<void> {
  await swapInFile(directory, name, contents, sync, beforeRename);
  if (sync) await syncDirectory(directory);
}

/**
 * replaceFile up to the rename, without the directory's fsync: a failure here leaves the old file
 * in place and untouched (the temporary one removed when it was not renamed); the caller fsyncs the
 * directory, and knows that a failure there came after the new file took the name. `contents` may
 * be pieces, written in turn as they come (a file of gigabytes is never whole in memory). Returns
 * the bytes written.
 */
export async function swapInFile(directory: string, name: string, contents: Uint8Array | Iterable<Uint8Array>, sync: boolean, beforeRename?: BeforeRename): Promise<number> {
  const temporary = join(directory, `${name}.${randomUUID()}.tmp`);
  const handle = await open(temporary, 'wx');
  let bytes = 0;
  try {
    for (const piece of contents instanceof Uint8Array ? [contents] : contents) {
      await writeWhole(handle, piece);
      bytes += piece.length;
    }
    if (sync) await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await beforeRename?.();
    await rename(temporary, join(directory, name));
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  return bytes;
}

/**
 * Removes the temporary files of replacements of `names` in `directory` (this build's, and an
 * earlier build's fixed `<name>.tmp`): called by the lock's holder, at open, when any there is a
 * crashed or lost writer's, never to be renamed (a lost one still writing finds its rename refused).
 */
export async function removeStaleTemporaries(directory: string, names: readonly string[]): Promise<void> {
  const temporary = new RegExp(`^(${names.map((name) => name.replace(/[.]/g, '\\.')).join('|')})\\.([0-9a-f-]{36}\\.)?tmp$`);
  for (const entry of await readdir(directory).catch(() => [] as string[])) {
    if (temporary.test(entry)) await unlink(join(directory, entry)).catch(() => undefined);
  }
}
