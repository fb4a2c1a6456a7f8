// Reads a file through one open handle, or answers null when there is no such file: the open is
// where a missing file shows, and whatever the reader asks of the handle (text, size, attributes)
// is then of that one file, even if the path is replaced meanwhile.
import { open, type FileHandle } from 'node:fs/promises';

export async function readIfPresent<T>(path: string, read: (handle: FileHandle) => Promise<T>): Promise<T | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return await read(handle);
  } finally {
    await handle.close();
  }
}
