// A leader's AppendEntries leaves before its own storage write begins. Transports hand a step's
// frames to the network on a microtask (the WebRTC send queue does, to bundle them), and a
// storage write's first, synchronous part can be long (Chromium's IndexedDB: 0.4–0.7 ms to open
// the transaction and clone the records, bench:browser-diagnose --timeline): started first, it
// held every follower's copy of the entry back for that long, on a path that then waits for the
// follower's own write. The leader's write runs meanwhile either way.
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../codec/index.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { StorageBatch } from '../storage/raft-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { createRaftNode, type RaftNode } from './create-raft-node.ts';

type Happening = { readonly node: NodeId; readonly what: 'appendHandedOver' | 'writeStarted'; readonly index: number };

/** Hands frames over on a microtask, as the WebRTC send queue does, and notes each AppendEntries. */
function deferringTransport(inner: RaftTransport, log: Happening[]): RaftTransport {
  return {
    selfId: inner.selfId,
    peers: inner.peers,
    incoming: inner.incoming,
    send(to, bytes) {
      const copy = bytes.slice();
      queueMicrotask(() => {
        const decoded = decodeMessage(copy);
        if (decoded.ok && decoded.value.type === 'appendEntries') {
          for (const entry of decoded.value.entries) log.push({ node: inner.selfId, what: 'appendHandedOver', index: entry.index });
        }
        inner.send(to, copy);
      });
    },
  };
}

class NotingStorage extends InMemoryRaftStorage {
  constructor(
    private readonly noted: NodeId,
    private readonly happenings: Happening[],
  ) {
    super();
  }
  override async writeBatch(batch: StorageBatch): Promise<void> {
    for (const entry of batch.entries) this.happenings.push({ node: this.noted, what: 'writeStarted', index: entry.index });
    await super.writeBatch(batch);
  }
}

describe('a leader sends before it writes', () => {
  it('hands its AppendEntries to the transport before its own write of the entry starts', async () => {
    const network = createLoopbackNetwork();
    const ids = ['a', 'b', 'c'].map((name) => nodeId(name));
    const log: Happening[] = [];
    const nodes: RaftNode[] = await Promise.all(
      ids.map((id) => createRaftNode({ id, clusterConfig: { voters: ids }, transport: deferringTransport(network.transport(id), log), storage: new NotingStorage(id, log) })),
    );
    await Promise.race(nodes.map((node) => node.awaitLeadership()));
    const leader = nodes.find((node) => node.role.value === 'leader');
    if (leader === undefined) throw new Error('no leader');
    // A first commit, so both followers are past the new leader's probe and take appends at once.
    await leader.propose(new Uint8Array([1]));
    const { index } = await leader.propose(new Uint8Array([2]));
    const atLeader = log.filter((happening) => happening.node === leader.id && happening.index === index).map((happening) => happening.what);
    expect(atLeader).toEqual(['appendHandedOver', 'appendHandedOver', 'writeStarted']);
    await Promise.all(nodes.map((node) => node.close()));
  });
});
