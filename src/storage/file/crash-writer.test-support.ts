// A writer process for file-storage-crash.test.ts: appends batches (with hard state changes,
// snapshots and prefix discards) to a FileRaftStorage as fast as it can and prints
// `ack <lastIndex> <snapshotIndex>` after every call resolves, until it is killed.
import { clientId, type LogEntry, nodeId } from '../../core/types.ts';
import { FileRaftStorage } from './file-storage.ts';

const directory = process.argv[2];
if (directory === undefined) throw new Error('usage: crash-writer <directory>');
const storage = await FileRaftStorage.open(directory, { compactAfterBytes: 256 * 1024 });
const stored = await storage.entries();
const snapshot = await storage.loadSnapshot();
let last = stored.at(-1)?.index ?? snapshot?.meta.lastIncludedIndex ?? 0;
let term = (await storage.term()) + 1;
let snapshotIndex = snapshot?.meta.lastIncludedIndex ?? 0;
const writer = clientId('crash-writer');
for (let round = 0; ; round += 1) {
  const count = 1 + (round % 37);
  const entries: LogEntry[] = Array.from({ length: count }, (_, offset) => ({
    index: last + 1 + offset,
    term,
    command: new TextEncoder().encode(`entry ${last + 1 + offset} `.repeat(1 + ((last + offset) % 9))),
    isNoOp: false,
    dedupKey: { clientId: writer, requestId: last + 1 + offset },
  }));
  await storage.writeBatch({ hardState: { term, votedFor: nodeId('crash') }, entries });
  last += count;
  if (round % 50 === 49) {
    snapshotIndex = last - 20;
    await storage.saveSnapshot({ lastIncludedIndex: snapshotIndex, lastIncludedTerm: term }, new TextEncoder().encode(`through ${snapshotIndex}`));
    await storage.discardLogPrefix(snapshotIndex);
  }
  if (round % 200 === 199) term += 1;
  process.stdout.write(`ack ${last} ${snapshotIndex}\n`);
}
