// Guards that a node's applied index has moved by the time its commit index is announced: a
// listener of the commit index (the worker's state publisher, which reports both to its page)
// read the applied index of the publish before.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createRaftNode } from './create-raft-node.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('the applied index, as a commit index listener reads it', () => {
  it('is the one the announced commit index brought (a solo node applies what it commits)', async () => {
    const id = nodeId('solo');
    const node = await createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage() });
    await node.awaitLeadership();
    const seen: Array<{ commit: number; applied: number }> = [];
    const unsubscribe = node.commitIndex.subscribe((commit) => seen.push({ commit, applied: node.appliedIndex?.() ?? -1 }));
    for (let k = 0; k < 3; k += 1) await node.propose(bytes(`c${k}`));
    unsubscribe();
    await node.close();
    expect(seen.length).toBeGreaterThan(0);
    for (const { commit, applied } of seen) expect(applied).toBe(commit);
  });
});
