// Review finding: the write pipeline's bound on queued readies (write-pipeline.ts maxQueuedReadies,
// 4,096) is enforced by STOPPING the node ("storage fell 4096 writes behind"), not by pushing
// back. A leader whose one storage write is slow (a large snapshot, a busy disk) while followers'
// forwarded proposals keep arriving, one frame per task, queues one ready per frame and kills
// itself after 4,096 frames: a healthy node stopped for good by load plus one slow write. Nothing
// earlier pushes back: the leader keeps accepting forwards (its uncommitted bound is 100,000).
import { describe, expect, it } from 'vitest';
import { createRaftNode } from '../driver/create-raft-node.ts';
import { clientId } from '../core/types.ts';
import { VirtualClock, drainMicrotasks } from '../testing/virtual-clock.ts';
import { GatedStorage, handTransport, ids } from '../driver/hand-driven-node.test-support.ts';

describe('a leader whose storage write is slow under a stream of forwarded proposals', () => {
  it('does not stop itself when readies pile up behind the slow write', async () => {
    const storage = new GatedStorage();
    storage.gated = false;
    const clock = new VirtualClock();
    const transport = handTransport(ids.a, [ids.b, ids.c]);
    const node = await createRaftNode({ id: ids.a, clusterConfig: { voters: [ids.a, ids.b, ids.c] }, transport, storage, raftConfig: { clock, electionTimeoutMin: 150, electionTimeoutMax: 300, heartbeatInterval: 50 } });
    // An election won by hand: b grants the pre-vote, then the vote.
    await clock.runUntil(() => transport.sent.some((sent) => sent.message.type === 'requestVote'), 1_000);
    transport.deliver(ids.b, { type: 'requestVoteResponse', term: 1, preVote: true, granted: true, denialReason: null });
    await clock.runUntil(() => transport.sent.some((sent) => sent.message.type === 'requestVote' && !sent.message.preVote), 1_000);
    transport.deliver(ids.b, { type: 'requestVoteResponse', term: 1, preVote: false, granted: true, denialReason: null });
    await clock.runUntil(() => node.role.value === 'leader', 1_000);
    expect(node.role.value).toBe('leader');
    await drainMicrotasks();

    // One write takes long (here: it waits until released); meanwhile forwards arrive, each in
    // a task of its own, as frames from a real transport do.
    storage.gated = true;
    const b = clientId('b-client');
    let answered = 0;
    for (let request = 1; request <= 4_200 && node.stopped.value === null; request += 1) {
      transport.deliver(ids.b, { type: 'forwardPropose', correlationId: request, command: new Uint8Array([request & 0xff]), dedupKey: { clientId: b, requestId: request } });
      await drainMicrotasks();
      answered = request;
    }
    expect({ stopped: node.stopped.value?.message ?? null, answered }).toEqual({ stopped: null, answered: 4_200 });
    storage.gated = false;
    storage.release();
    await node.close();
  });
});
