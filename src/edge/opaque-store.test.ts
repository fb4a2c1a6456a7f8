// An edge peer without --app keeps the room's log as bytes it cannot read: its store ignores every
// command, and its state is only the last snapshot the cluster installed on it (none for a peer
// that kept up). It set `snapshotEvery: 10_000_000`, the largest count the store took, not "never":
// after ten million applied commands (a day at 100 writes/s) it published a snapshot of that stale
// or empty state, the node compacted its log behind it, and a leading edge peer streamed it to every
// tab that needed one (an outside review). It now never publishes.
import { describe, expect, it } from 'vitest';
import { clientId, type LogEntry, type Snapshot } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createStoreApplier } from '../rooms/store-applier.ts';
import { resolveStoreOptions } from '../rooms/store-options.ts';
import { opaqueStoreOptions } from './opaque-store.ts';

describe('the store of an edge peer without --app', () => {
  it('never publishes a snapshot of its own, however many commands it applies', () => {
    const options = opaqueStoreOptions();
    const resolved = resolveStoreOptions(options);
    // Never, not a count: any count is reached in the end.
    expect(resolved.snapshotEvery).toBe(Number.POSITIVE_INFINITY);
    const published: Snapshot[] = [];
    const node = { publishSnapshot: (snapshot: Snapshot) => void published.push(snapshot) } as unknown as RaftNode;
    const applier = createStoreApplier({ node, initialState: options.initialState, resolved, ownPending: () => undefined, confirmed: () => undefined, ownFolded: () => undefined, installed: () => undefined });
    const command = new TextEncoder().encode('{"set":"x"}'); // the application's bytes, which this peer cannot read
    const writer = clientId('a-tab');
    for (let index = 1; index <= 100_000; index += 1) {
      const entry: LogEntry = { index, term: 1, command, isNoOp: false, dedupKey: { clientId: writer, requestId: index } };
      applier.consume({ type: 'entry', entry });
    }
    expect({ applied: applier.appliedIndex.value, published: published.length, stats: applier.stats.snapshotsPublished }).toEqual({ applied: 100_000, published: 0, stats: 0 });
  });
});
