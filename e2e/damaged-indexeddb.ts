// Damaging a closed Chromium profile's IndexedDB the way a torn write does (e2e/storage-crash.spec.ts,
// e2e/demo.spec.ts): bytes of the origin's LevelDB log flipped, so that Chromium's next open finds
// a checksum mismatch, deletes the origin's databases as corrupt and makes empty ones, saying so
// only through that open's `dataLoss` (what a SIGKILL in the middle of a write sometimes leaves:
// `npm run bench:indexeddb-kill`). Only the log is touched: the profile's localStorage, where a
// room keeps its id, survives, as it does after such a kill.
import { expect } from '@playwright/test';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Damages the largest LevelDB log of `origin`'s IndexedDB (`http://127.0.0.1:<port>`) in a closed `profile`. */
export function damageIndexedDbLog(profile: string, origin: string): void {
  const refused = damageIndexedDbLogIfThere(profile, origin);
  expect(refused, 'the origin has a LevelDB log holding the writes (more than 4 KiB)').toBeNull();
}

/**
 * The same, or why not (null once damaged): no store for the origin yet, or no log over 4 KiB (a
 * log just started holds too little for the damage to land past its first records). For the
 * chaos campaign, which goes on either way.
 */
export function damageIndexedDbLogIfThere(profile: string, origin: string): string | null {
  const origins = join(profile, 'Default', 'IndexedDB');
  const url = new URL(origin);
  // Chromium names the directory after the origin: http_127.0.0.1_4173.indexeddb.leveldb.
  const name = `${url.protocol.replace(':', '')}_${url.hostname}_${url.port}`;
  const entries = existsSync(origins) ? readdirSync(origins) : [];
  const store = entries.find((entry) => entry.endsWith('.indexeddb.leveldb') && (entry.startsWith(`${name}.`) || entry.startsWith(`${name}_`)));
  if (store === undefined) return `no LevelDB store for ${origin} among ${entries.join(', ') || 'nothing'}`;
  const directory = join(origins, store);
  const logs = readdirSync(directory).filter((entry) => entry.endsWith('.log')).map((entry) => join(directory, entry));
  const largest = logs.sort((left, right) => statSync(right).size - statSync(left).size)[0];
  if (largest === undefined || statSync(largest).size <= 4096) return `its largest LevelDB log holds ${largest === undefined ? 0 : statSync(largest).size} bytes, too few to damage`;
  const bytes = readFileSync(largest);
  for (let offset = 1024; offset < bytes.length; offset += 997) bytes[offset] = (bytes[offset] ?? 0) ^ 0xff;
  writeFileSync(largest, bytes);
  return null;
}
