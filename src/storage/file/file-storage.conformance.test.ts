// FileRaftStorage against the shared storage contract, with real files and fsync.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RaftStorage } from '../raft-storage.ts';
import { describeStorageConformance } from '../storage-conformance.ts';
import { FileRaftStorage } from './file-storage.ts';

describeStorageConformance('FileRaftStorage', () => {
  const directory = mkdtempSync(join(tmpdir(), 'raftmesh-file-storage-'));
  return {
    open: () => FileRaftStorage.open(directory),
    close: (storage: RaftStorage) => (storage as FileRaftStorage).close(),
    destroy: () => rmSync(directory, { recursive: true, force: true }),
  };
});
