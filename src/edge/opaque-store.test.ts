// An edge peer without --app keeps the room's log as bytes it cannot read: its store ignores every
// command, and its state is only the last snapshot the cluster installed on it (none for a peer
// that kept up). It set `snapshotEvery: 10_000_000`, the largest count the store took, not "never":
// after ten million applied commands (a day at 100 writes/s) it published a snapshot of that stale
// or empty state, the node compacted its log behind it, and a leading edge peer streamed it to every
// tab that needed one (an outside review). It now never publishes.
import { describe, expect, it } from 'vitest';
import { ClientSessionTable } from '../core/client-session-table.ts';
import { clientId, type LogEntry, type Snapshot } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createReplicatedStore } from '../rooms/replicated-store.ts';
import { jsonSerializer } from '../rooms/serializer.ts';
import { createStoreApplier } from '../rooms/store-applier.ts';
import { stampCommand } from '../rooms/store-command-stamp.ts';
import { resolveStoreOptions } from '../rooms/store-options.ts';
import { encodeStoreSnapshot } from '../rooms/store-snapshot.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';
import { opaqueStoreOptions, witnessStoreOptions } from './opaque-store.ts';

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

// A store stops at a command or snapshot of a newer version than its own (ReplicatedStoreOptions.version).
// An edge peer's own stores read no command: stopping there would freeze the peer (a witness
// would compact no more) for an application it does not know. They fold every version, and write
// the bytes they are given, unstamped.
describe('the stores of an edge peer without --app, and of a witness, in a room of a versioned application', () => {
  it('fold commands and install snapshots of any version, and never stop', () => {
    for (const options of [opaqueStoreOptions(), witnessStoreOptions()]) {
      const resolved = resolveStoreOptions<unknown, Uint8Array>(options);
      const node = { publishSnapshot: () => undefined } as unknown as RaftNode;
      const applier = createStoreApplier<unknown, Uint8Array>({ node, initialState: options.initialState, resolved, ownPending: () => undefined, confirmed: () => undefined, ownFolded: () => undefined, installed: () => undefined });
      const writer = clientId('a-tab');
      const command = stampCommand(2 ** 31 - 1, new TextEncoder().encode('{"set":"x"}'));
      for (let index = 1; index <= 3; index += 1) applier.consume({ type: 'entry', entry: { index, term: 1, command, isNoOp: false, dedupKey: { clientId: writer, requestId: index } } });
      const state = new TextEncoder().encode('{"x":1}');
      applier.consume({ type: 'install', snapshot: { throughIndex: 10, state: encodeStoreSnapshot(new ClientSessionTable(), state, 9) } });
      applier.consume({ type: 'entry', entry: { index: 11, term: 1, command, isNoOp: false, dedupKey: { clientId: writer, requestId: 11 } } });
      expect({ outdated: applier.outdated.value, stopped: applier.stopped, applied: applier.appliedIndex.value, installed: applier.stats.snapshotsInstalled }).toEqual({ outdated: null, stopped: null, applied: 11, installed: 1 });
    }
  });

  it('write what they are given unstamped, and fold a versioned store\'s commands in a cluster', async () => {
    const cluster = createSimulatedCluster({ seed: 5621, ids: ['a', 'b', 'c'] });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    const edge = cluster.ids.find((id) => id !== leader.id)!;
    // As joinRoom makes it: the options spread into createReplicatedStore's.
    const opaque = createReplicatedStore({ ...opaqueStoreOptions(), node: cluster.nodes.get(edge)!.node!, clock: cluster.clock });
    const app = createReplicatedStore<{ readonly total: number }, { readonly add: number }>({ node: leader.node!, initialState: { total: 0 }, apply: (state, command) => ({ total: state.total + command.add }), version: 4, clock: cluster.clock });
    const written = await cluster.settle(app.dispatch({ add: 2 }), 2_000);
    const raw = jsonSerializer<{ readonly add: number }>().encode({ add: 3 });
    const passed = await cluster.settle(opaque.dispatch(raw), 2_000);
    expect(await cluster.runUntil(() => app.state.value.total === 5, 2_000)).toBe(true);
    await cluster.runFor(200);
    expect(opaque.outdated.value).toBeNull();
    expect(opaque.appliedIndex.value).toBeGreaterThanOrEqual(passed!.index);
    expect(written!.index).toBeLessThan(passed!.index);
    // The application's store read the opaque store's bytes as its own, version 0: not stamped.
    expect(app.outdated.value).toBeNull();
    expect(app.stats.undecodable).toBe(0);
    await cluster.close();
  });
});
