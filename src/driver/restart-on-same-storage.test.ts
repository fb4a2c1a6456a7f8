// Guards: a node stopped while its storage write is in flight hands its storage over only once
// that write has landed (storage-handover.ts). An app that closes a node through its AbortSignal
// (a component unmounting) and creates a new one on the same storage object as soon as `stopped`
// fires got a node restored from a log the old write then changed underneath it: its first write
// was refused, or it acknowledged a log the storage no longer held. An outside review found it
// (2026-12-07, third session).
import { describe, expect, it } from 'vitest';
import type { RaftNode } from './node-options.ts';
import { createRaftNode } from './create-raft-node.ts';
import { GatedStorage, handTransport, ids, quietConfig, settle } from './hand-driven-node.test-support.ts';

const voters = { voters: [ids.a, ids.b, ids.c] };
const entry = (index: number, term: number) => ({ index, term, command: new Uint8Array([index]), isNoOp: false });
const appendFirstEntry = { type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [entry(1, 1)], leaderCommit: 0, readRound: 0 } as const;

/** A follower whose write of entry 1 is in flight (held by the gated storage). */
async function followerWriting(storage: GatedStorage, signal: AbortSignal): Promise<RaftNode> {
  const transport = handTransport(ids.b, [ids.a, ids.c]);
  const node = await createRaftNode({ id: ids.b, clusterConfig: voters, transport, storage, raftConfig: quietConfig, signal });
  transport.deliver(ids.a, appendFirstEntry);
  await settle();
  expect(storage.pendingWrites).toBe(1);
  return node;
}

function whenStopped(node: RaftNode): Promise<void> {
  return new Promise<void>((resolve) => {
    if (node.stopped.value !== null) return resolve();
    const unsubscribe = node.stopped.subscribe((error) => {
      if (error === null) return;
      unsubscribe();
      resolve();
    });
  });
}

describe('a node closed by its signal, then started again on the same storage', () => {
  it('the new node is not undermined by the old node write still in flight', async () => {
    const storage = new GatedStorage();
    const controller = new AbortController();
    const node = await followerWriting(storage, controller.signal);

    // The disk finishes that write a little later, whatever the node does meanwhile.
    setTimeout(() => {
      storage.gated = false;
      storage.release();
    }, 20);

    // The app's component unmounts (abort), then mounts again once the old node says it stopped:
    // the only signal-side observable of "this node is done" is `stopped`.
    controller.abort();
    await whenStopped(node);
    const second = handTransport(ids.b, [ids.a, ids.c]);
    const restarted = await createRaftNode({ id: ids.b, clusterConfig: voters, transport: second, storage, raftConfig: quietConfig });
    await new Promise((resolve) => setTimeout(resolve, 40)); // the old write has landed by now

    // The leader (re)sends entry 1, as it does after a follower restart.
    second.deliver(ids.a, appendFirstEntry);
    await settle();
    expect(restarted.stopped.value).toBeNull();
    const answers = second.sent.filter((sent) => sent.message.type === 'appendEntriesResponse').map((sent) => sent.message);
    expect(answers).toEqual([expect.objectContaining({ success: true, matchIndex: 1 })]);
    await restarted.close();
  });

  it('stopped is announced at once even while the write hangs; a new node waiting for it gives up with its own signal', async () => {
    const storage = new GatedStorage();
    const controller = new AbortController();
    const node = await followerWriting(storage, controller.signal);
    controller.abort();
    // Not held back by the write: a hung storage must not hide that the node stopped.
    expect(node.stopped.value?.name).toBe('RaftClosedError');

    const giveUp = new AbortController();
    const restarting = createRaftNode({ id: ids.b, clusterConfig: voters, transport: handTransport(ids.b, [ids.a, ids.c]), storage, raftConfig: quietConfig, signal: giveUp.signal });
    restarting.catch(() => undefined);
    let outcome = 'pending';
    restarting.then(() => (outcome = 'created'), () => (outcome = 'rejected'));
    await settle();
    expect(outcome).toBe('pending'); // waiting for the old write, not restoring around it
    giveUp.abort(new Error('unmounted again'));
    await expect(restarting).rejects.toThrow('unmounted again');
    storage.gated = false;
    storage.release();
  });

  it('once the old write has landed, a new node on the storage starts without waiting on anything', async () => {
    const storage = new GatedStorage();
    const controller = new AbortController();
    const node = await followerWriting(storage, controller.signal);
    storage.gated = false;
    storage.release();
    await settle();
    controller.abort();
    await whenStopped(node);
    const restarted = await createRaftNode({ id: ids.b, clusterConfig: voters, transport: handTransport(ids.b, [ids.a, ids.c]), storage, raftConfig: quietConfig });
    expect(restarted.stopped.value).toBeNull();
    await restarted.close();
    expect(storage.peekLog().entries.map((stored) => stored.index)).toEqual([1]);
  });
});
