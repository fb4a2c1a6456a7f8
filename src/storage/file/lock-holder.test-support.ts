// For the tests whose lock holder is another process (lock-holder-process.test-support.ts): a process that opens a FileRaftStorage on argv[2], says
// `opened` (or `refused <reason>`) on its first line, and holds it until its stdin ends.
import { FileRaftStorage } from './file-storage.ts';

const directory = process.argv[2];
if (directory === undefined) throw new Error('usage: lock-holder <directory>');
try {
  const storage = await FileRaftStorage.open(directory, { fsync: false });
  process.stdout.write('opened\n');
  process.stdin.resume();
  process.stdin.on('end', () => void storage.close().then(() => process.exit(0)));
} catch (error) {
  process.stdout.write(`refused ${(error as { reason?: string }).reason ?? String(error)}\n`);
  process.exit(0);
}
