// The driver's half of the durability rule: an acknowledgement never leaves before the write it
// acknowledges, even when it comes from a later step that wrote nothing itself (found by the
// simulator: a duplicated AppendEntries was answered while the first copy's write was pending).
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import { createEmitter, createWatchable } from '../core/observable.ts';
import type { RaftMessage } from '../core/messages.ts';
import { nodeId, type NodeId, type RaftEnvelope } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { StorageBatch } from '../storage/raft-storage.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { createRaftNode } from './create-raft-node.ts';

class GatedStorage extends InMemoryRaftStorage {
  private releases: Array<() => void> = [];
  override async writeBatch(batch: StorageBatch): Promise<void> {
    await new Promise<void>((resolve) => this.releases.push(resolve));
    await super.writeBatch(batch);
  }
  release(): void {
    const waiting = this.releases;
    this.releases = [];
    for (const resolve of waiting) resolve();
  }
  get pendingWrites(): number {
    return this.releases.length;
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('acknowledgements wait for their writes', () => {
  it('a duplicate AppendEntries is not acknowledged before the first copy is durable', async () => {
    const [leader, follower] = [nodeId('leader'), nodeId('follower')];
    const incoming = createEmitter<RaftEnvelope>();
    const sent: RaftMessage[] = [];
    const transport: RaftTransport = {
      selfId: follower,
      peers: createWatchable<ReadonlySet<NodeId>>(new Set([leader])),
      incoming,
      send: (_to, bytes) => {
        const decoded = decodeMessage(bytes);
        if (decoded.ok) sent.push(decoded.value);
      },
    };
    const storage = new GatedStorage();
    const node = await createRaftNode({ id: follower, clusterConfig: { voters: [leader, follower] }, transport, storage, raftConfig: { electionTimeoutMin: 10_000, electionTimeoutMax: 20_000, heartbeatInterval: 1_000 } });
    const append = encodeMessage({ type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [{ index: 1, term: 1, command: new Uint8Array([7]), isNoOp: false }], leaderCommit: 0, readRound: 0 });
    incoming.emit({ from: leader, bytes: append });
    await tick();
    expect(storage.pendingWrites).toBe(1);
    incoming.emit({ from: leader, bytes: append }); // the network duplicated it
    await tick();
    expect(sent.filter((message) => message.type === 'appendEntriesResponse')).toEqual([]);
    storage.release();
    await tick();
    const acknowledgements = sent.filter((message) => message.type === 'appendEntriesResponse');
    expect(acknowledgements.length).toBe(2);
    expect(acknowledgements.every((message) => message.type === 'appendEntriesResponse' && message.success && message.matchIndex === 1)).toBe(true);
    storage.release();
    await node.close();
  });
});
