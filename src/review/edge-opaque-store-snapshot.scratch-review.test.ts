// Review finding: an edge peer without --app runs opaqueStoreOptions(), whose reducer ignores every
// command (`apply: (state) => state`) and whose state is only the bytes of the last snapshot the
// cluster installed on it (none at all for a peer that kept up). Its header says it "never
// publishes a snapshot of its own (it could not compute one)", but it sets `snapshotEvery:
// 10_000_000`, the largest value the store accepts, not "never": after ten million applied
// commands (28 hours at 100 writes/s, without a restart) the store publishes a snapshot at the
// current index whose state is those stale (or empty) bytes. The node then compacts its log
// behind that snapshot, so the commands it covered are gone from this peer for good, and an edge
// peer that leads (the one member that is always on) streams the bogus snapshot to every follower
// that needs one: each new or reloaded tab installs the application's state as it was at the last
// install, or as empty bytes.
import { describe, expect, it } from 'vitest';
import { clientId, type LogEntry, type Snapshot } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { opaqueStoreOptions } from '../edge/opaque-store.ts';
import { createStoreApplier } from '../rooms/store-applier.ts';
import { resolveStoreOptions } from '../rooms/store-options.ts';
import { decodeStoreSnapshot } from '../rooms/store-snapshot.ts';

describe('review: the opaque store of an edge peer without --app', () => {
  it('never publishes a snapshot of its own, however many commands it applies', () => {
    const options = opaqueStoreOptions();
    const published: Snapshot[] = [];
    const node = { publishSnapshot: (snapshot: Snapshot) => void published.push(snapshot) } as unknown as RaftNode;
    const applier = createStoreApplier({
      node,
      initialState: options.initialState,
      resolved: resolveStoreOptions(options),
      ownPending: () => undefined,
      confirmed: () => undefined,
      ownFolded: () => undefined,
      installed: () => undefined,
    });
    const command = new TextEncoder().encode('{"set":"x"}'); // the application's bytes, which this peer cannot read
    const writer = clientId('a-tab');
    const commands = resolveStoreOptions(options).snapshotEvery; // ten million
    for (let index = 1; index <= commands && published.length === 0; index += 1) {
      const entry: LogEntry = { index, term: 1, command, isNoOp: false, dedupKey: { clientId: writer, requestId: index } };
      applier.consume({ type: 'entry', entry });
    }
    const first = published[0];
    const description = first === undefined ? 'none' : `through ${first.throughIndex}, application state of ${decodeStoreSnapshot(first.state).state.length} bytes`;
    expect(description).toBe('none');
  }, 120_000);
});
