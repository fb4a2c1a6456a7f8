// Damaging a closed Chromium profile's IndexedDB the way a torn write does (e2e/storage-crash.spec.ts,
// e2e/demo.spec.ts): bytes of the origin's LevelDB log flipped, so that Chromium's next open finds
// a checksum mismatch, deletes the origin's databases as corrupt and makes empty ones, saying so
// only through that open's `dataLoss` (what a SIGKILL in the middle of a write sometimes leaves:
// `npm run bench:indexeddb-kill`). Only the log is touched: the profile's localStorage, where a
// room keeps its id, survives, as it does after such a kill.
import { expect } from '@playwright/test';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Damages the largest LevelDB log of `origin`'s IndexedDB (`http://127.0.0.1:<port>`) in a closed `profile`. */
export function damageIndexedDbLog(profile: string, origin: string): void {
  const origins = join(profile, 'Default', 'IndexedDB');
  const url = new URL(origin);
  // Chromium names the directory after the origin: http_127.0.0.1_4173.indexeddb.leveldb.
  const name = `${url.protocol.replace(':', '')}_${url.hostname}_${url.port}`;
  const store = readdirSync(origins).find((entry) => entry.endsWith('.indexeddb.leveldb') && (entry.startsWith(`${name}.`) || entry.startsWith(`${name}_`)));
  expect(store, `the origin ${origin} has a LevelDB store among ${readdirSync(origins).join(', ')}`).toBeDefined();
  const directory = join(origins, store ?? '');
  const logs = readdirSync(directory).filter((entry) => entry.endsWith('.log')).map((entry) => join(directory, entry));
  const largest = logs.sort((left, right) => statSync(right).size - statSync(left).size)[0] ?? '';
  expect(statSync(largest).size, 'the LevelDB log holds the writes (more than 4 KiB)').toBeGreaterThan(4096);
  const bytes = readFileSync(largest);
  for (let offset = 1024; offset < bytes.length; offset += 997) bytes[offset] = (bytes[offset] ?? 0) ^ 0xff;
  writeFileSync(largest, bytes);
}
