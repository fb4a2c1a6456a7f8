// Review finding: a node closed through its AbortSignal reports itself stopped while its storage
// write is still in flight, and nothing lets the caller wait for that write (closeWhenAborted
// drops close()'s promise). The write lands after a new node restored from the same storage: the
// new node's view of the log is stale, and its first write is refused (it stops), or worse, it
// acknowledges a log the storage no longer holds.
import { describe, expect, it } from 'vitest';
import { createRaftNode } from '../driver/create-raft-node.ts';
import { GatedStorage, handTransport, ids, quietConfig, settle } from '../driver/hand-driven-node.test-support.ts';

const entry = (index: number, term: number) => ({ index, term, command: new Uint8Array([index]), isNoOp: false });

describe('a node closed by its signal, then started again on the same storage', () => {
  it('the new node is not undermined by the old node write still in flight', async () => {
    const storage = new GatedStorage();
    const voters = { voters: [ids.a, ids.b, ids.c] };
    const first = handTransport(ids.b, [ids.a, ids.c]);
    const controller = new AbortController();
    const node = await createRaftNode({ id: ids.b, clusterConfig: voters, transport: first, storage, raftConfig: quietConfig, signal: controller.signal });
    first.deliver(ids.a, { type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [entry(1, 1)], leaderCommit: 0, readRound: 0 });
    await settle();
    expect(storage.pendingWrites).toBe(1); // the entry's write is in flight

    // The disk finishes that write a little later, whatever the node does meanwhile.
    setTimeout(() => {
      storage.gated = false;
      storage.release();
    }, 20);

    // The app's component unmounts (abort), then mounts again once the old node says it stopped:
    // the only signal-side observable of "this node is done" is `stopped`.
    controller.abort();
    await new Promise<void>((resolve) => {
      if (node.stopped.value !== null) return resolve();
      const unsubscribe = node.stopped.subscribe((error) => {
        if (error === null) return;
        unsubscribe();
        resolve();
      });
    });
    const second = handTransport(ids.b, [ids.a, ids.c]);
    const restarted = await createRaftNode({ id: ids.b, clusterConfig: voters, transport: second, storage, raftConfig: quietConfig });
    await new Promise((resolve) => setTimeout(resolve, 40)); // the old write has landed by now

    // The leader (re)sends entry 1, as it does after a follower restart.
    second.deliver(ids.a, { type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [entry(1, 1)], leaderCommit: 0, readRound: 0 });
    await settle();
    expect(restarted.stopped.value).toBeNull();
    const answers = second.sent.filter((sent) => sent.message.type === 'appendEntriesResponse').map((sent) => sent.message);
    expect(answers).toEqual([expect.objectContaining({ success: true, matchIndex: 1 })]);
    await restarted.close();
  });
});
