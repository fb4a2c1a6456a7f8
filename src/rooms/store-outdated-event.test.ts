// A room whose store meets a newer version of the application (ReplicatedStoreOptions.version)
// says so once, with a `storeOutdated` event, and goes on as a member: its node still commits.
import { describe, expect, it } from 'vitest';
import type { KvCommand } from '../testing/kv-command.ts';
import { joinLoneRoom } from './lone-room.test-support.ts';
import { jsonSerializer } from './serializer.ts';
import { stampCommand } from './store-command-stamp.ts';
import { StoreVersionError } from './store-version-error.ts';

const command = (key: string, version: number): Uint8Array => stampCommand(version, jsonSerializer<KvCommand>().encode({ type: 'put', key, value: 'v' }));

describe('a room whose store meets a newer version', () => {
  it('emits storeOutdated once, and its node goes on committing as the room\'s member', async () => {
    const { clock, room, events } = await joinLoneRoom(5611, 'versions');
    await clock.runUntil(() => room.node.role.value === 'leader', { timeoutMs: 5_000 });
    // This room's store is at version 0 (unversioned); another peer's newer app proposes commands of version 3.
    const settled = (promise: Promise<unknown>): Promise<boolean> => {
      let done = false;
      void promise.then(() => (done = true));
      return clock.runUntil(() => done, { timeoutMs: 5_000 });
    };
    expect(await settled(room.store.dispatch({ type: 'put', key: 'old', value: 'v' }))).toBe(true);
    const first = room.node.propose(command('new', 3), { requestId: 1_000 });
    expect(await settled(first)).toBe(true);
    const index = (await first).index;
    const second = room.node.propose(command('newer', 3), { requestId: 1_001 });
    expect(await settled(second)).toBe(true);
    await clock.advance(500);

    const outdated = events.filter((event) => event.type === 'storeOutdated');
    expect(outdated).toEqual([{ type: 'storeOutdated', storeVersion: 0, seenVersion: 3, index, at: expect.any(Number) }]);
    expect(room.store.outdated.value).toBeInstanceOf(StoreVersionError);
    expect(room.store.state.value).toEqual({ old: 'v' });
    expect(room.store.appliedIndex.value).toBe(index - 1);
    // The node is not stopped, nor the room: it commits on, a member still.
    expect(room.node.stopped.value).toBeNull();
    expect(room.node.commitIndex.value).toBe((await second).index);
    expect(room.node.membership.value.voters).toEqual([room.id]);
    expect(events.filter((event) => event.type === 'nodeStopped' || event.type === 'removed' || event.type === 'wedged')).toEqual([]);
    await room.leave();
  });
});
