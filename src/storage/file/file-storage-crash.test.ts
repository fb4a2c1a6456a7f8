// Kill a writer process with SIGKILL in the middle of its load, many times, on one directory:
// every write it acknowledged (printed after the call resolved, so after fsync) must be there
// when the directory is reopened, the log must be contiguous with non-decreasing terms, and the
// next writer must be able to continue. Kill moments vary by round.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FileRaftStorage } from './file-storage.ts';

const writerScript = join(import.meta.dirname, 'crash-writer.test-support.ts');

/** Starts a writer, waits until it acknowledged `minimumAcks` calls plus a varying delay, kills it. */
function runAndKill(directory: string, minimumAcks: number, extraMs: number): Promise<{ lastAcked: number; snapshotAcked: number; acks: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, directory], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let acks = 0;
    let lastAcked = 0;
    let snapshotAcked = 0;
    let killing = false;
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [word, last, snapshot] = line.split(' ');
        if (word !== 'ack') continue;
        acks += 1;
        lastAcked = Math.max(lastAcked, Number(last));
        snapshotAcked = Math.max(snapshotAcked, Number(snapshot));
      }
      if (!killing && acks >= minimumAcks) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), extraMs);
      }
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve({ lastAcked, snapshotAcked, acks });
      else reject(new Error(`the writer exited by itself before it was killed:\n${errors}`));
    });
  });
}

it('SIGKILL mid-load, 12 times: every acknowledged entry survives and the log reopens consistent', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'raftmesh-crash-'));
  try {
    let acknowledgedThrough = 0;
    for (let round = 0; round < 12; round += 1) {
      const result = await runAndKill(directory, 10 + round * 4, (round * 13) % 40);
      acknowledgedThrough = Math.max(acknowledgedThrough, result.lastAcked);
      const storage = await FileRaftStorage.open(directory);
      const entries = await storage.entries();
      const snapshot = await storage.loadSnapshot();
      await storage.close();
      const lastStored = entries.at(-1)?.index ?? snapshot?.meta.lastIncludedIndex ?? 0;
      expect(lastStored, `round ${round}: acknowledged through ${acknowledgedThrough}`).toBeGreaterThanOrEqual(acknowledgedThrough);
      expect(snapshot?.meta.lastIncludedIndex ?? 0).toBeGreaterThanOrEqual(result.snapshotAcked);
      const firstStored = entries[0]?.index ?? lastStored + 1;
      expect(firstStored).toBeLessThanOrEqual((snapshot?.meta.lastIncludedIndex ?? 0) + 1); // no gap after the snapshot
      entries.forEach((entry, position) => {
        const previous = entries[position - 1];
        if (previous === undefined) return;
        expect(entry.index).toBe(previous.index + 1);
        expect(entry.term).toBeGreaterThanOrEqual(previous.term);
        expect(new TextDecoder().decode(entry.command)).toContain(`entry ${entry.index} `);
      });
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}, 180_000);
