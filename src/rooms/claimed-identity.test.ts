// The ids joinRoom mints are claimed (signaling/node-claim.ts): the signaling factory is handed
// the claim that proves the id to a server, the identity store keeps it beside the id, and a
// reload comes back with both.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { claimProvesNodeId, isClaimedNodeId } from '../signaling/node-claim.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { joinRoom, type JoinRoomOptions, type SignalingContext } from './join-room.ts';
import { forgetNodeClaim, identityKey, loadNodeClaim, loadOrMintNodeId, memoryKeyValueStore, mintNodeIdentity, saveNodeIdentity, type KeyValueStore } from './room-identity.ts';
import { kvReducer, type KvState } from './room-simulation-peers.test-support.ts';
import { currentEndpoint, stubSignaling } from './simulated-room-endpoints.test-support.ts';
import { manualVisibility } from './visibility.ts';
import type { KvCommand } from '../testing/kv-command.ts';

/** Joins a room alone on the simulated network, recording every context the signaling factory got. */
async function joinAlone(seed: number, identityStore: KeyValueStore, contexts: SignalingContext[], extra: Partial<JoinRoomOptions<KvState, KvCommand>> = {}) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const endpoints = new Map<NodeId, RaftTransport>();
  const storage = new InMemoryRaftStorage();
  const joining = joinRoom<KvState, KvCommand>({
    room: 'claims',
    signaling: (context) => {
      contexts.push(context);
      return stubSignaling(context.roomId, context.nodeId, currentEndpoint(network, endpoints, context.nodeId));
    },
    createTransport: (client) => currentEndpoint(network, endpoints, client.selfId),
    storage: () => storage,
    identityStore,
    visibility: manualVisibility(true),
    store: { initialState: {}, apply: kvReducer },
    raftConfig: { clock, heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 600 },
    discoveryMs: 400,
    gossipIntervalMs: 300,
    ...extra,
  });
  let done = false;
  joining.then(() => (done = true), () => (done = true));
  await clock.runUntil(() => done, { timeoutMs: 5_000 });
  const room = await joining;
  await room.leave();
  return room.id;
}

describe('the id joinRoom mints', () => {
  it('is claimed, and the signaling factory gets the claim that proves it; a reload gets the same id and claim', async () => {
    const identityStore = memoryKeyValueStore();
    const contexts: SignalingContext[] = [];
    const id = await joinAlone(1, identityStore, contexts);
    expect(isClaimedNodeId(id)).toBe(true);
    expect(contexts).toHaveLength(1);
    const claim = contexts[0]!.claim;
    expect(contexts[0]).toMatchObject({ roomId: 'claims', nodeId: id });
    expect(claimProvesNodeId(claim ?? '', id)).toBe(true);
    expect(await identityStore.get(identityKey('claims'))).toBe(id);
    expect(await loadNodeClaim(identityStore, 'claims', id)).toBe(claim);

    const again = await joinAlone(2, identityStore, contexts);
    expect(again).toBe(id);
    expect(contexts[1]).toMatchObject({ nodeId: id, claim });
  });

  it('an id saved before claims (or chosen by the application) joins unclaimed: the context carries no claim', async () => {
    const identityStore = memoryKeyValueStore();
    await identityStore.set(identityKey('claims'), 'peer-0123456789abcdef');
    const contexts: SignalingContext[] = [];
    expect(await joinAlone(3, identityStore, contexts)).toBe('peer-0123456789abcdef');
    expect(contexts[0]).not.toHaveProperty('claim');
  });

  it('a claimed id whose claim is lost or wrong gets no claim (the server then refuses it, as it would a stranger)', async () => {
    const identityStore = memoryKeyValueStore();
    const first = mintNodeIdentity();
    const second = mintNodeIdentity();
    await saveNodeIdentity(identityStore, 'claims', first);
    expect(await loadNodeClaim(identityStore, 'claims', first.id)).toBe(first.claim);
    await identityStore.set(`raftmesh:room:claims:node-claim:${first.id}`, second.claim ?? '');
    expect(await loadNodeClaim(identityStore, 'claims', first.id)).toBeNull();
    await forgetNodeClaim(identityStore, 'claims', first.id);
    expect(await loadNodeClaim(identityStore, 'claims', first.id)).toBeNull();
  });

  it('is saved claim first: a crash between the two writes never leaves the saved id without its claim', async () => {
    const writes: string[] = [];
    const values = memoryKeyValueStore();
    const recording: KeyValueStore = { get: (key) => values.get(key), set: (key, value) => (writes.push(key), values.set(key, value)), delete: (key) => values.delete(key) };
    const id = await loadOrMintNodeId(recording, 'claims');
    expect(writes).toEqual([`raftmesh:room:claims:node-claim:${id}`, identityKey('claims')]);
    // A fresh id replacing it leaves the old id's claim in place until the new id is saved.
    const fresh = mintNodeIdentity();
    writes.length = 0;
    await saveNodeIdentity(recording, 'claims', fresh);
    await forgetNodeClaim(recording, 'claims', id);
    expect(writes).toEqual([`raftmesh:room:claims:node-claim:${fresh.id}`, identityKey('claims')]);
    expect(await loadNodeClaim(recording, 'claims', id)).toBeNull();
    expect(await loadNodeClaim(recording, 'claims', fresh.id)).toBe(fresh.claim);
  });

  it('a saved claimed id whose claim the store lost is given up: a fresh claimed id, the old id’s storage discarded', async () => {
    const identityStore = memoryKeyValueStore();
    const lost = mintNodeIdentity();
    await identityStore.set(identityKey('claims'), lost.id); // the id came back from a restore, its claim did not
    const contexts: SignalingContext[] = [];
    const discarded: NodeId[] = [];
    const id = await joinAlone(4, identityStore, contexts, { discardStorage: (abandoned) => void discarded.push(abandoned) });
    expect(id).not.toBe(lost.id);
    expect(isClaimedNodeId(id)).toBe(true);
    expect(contexts.map((context) => context.nodeId)).toEqual([id]);
    expect(claimProvesNodeId(contexts[0]?.claim ?? '', id)).toBe(true);
    expect(await identityStore.get(identityKey('claims'))).toBe(id);
    expect(discarded).toEqual([lost.id]);
  });

  it('a fixed claimed nodeId without its claim in the store is refused before anything opens, naming the store', async () => {
    const lost = mintNodeIdentity();
    const contexts: SignalingContext[] = [];
    await expect(joinAlone(5, memoryKeyValueStore(), contexts, { nodeId: lost.id })).rejects.toThrow(/identity store holds no claim for it/);
    expect(contexts).toEqual([]);
    // With the store it was minted with, it joins.
    const identityStore = memoryKeyValueStore();
    await saveNodeIdentity(identityStore, 'claims', lost);
    expect(await joinAlone(6, identityStore, contexts, { nodeId: lost.id })).toBe(lost.id);
    expect(contexts[0]).toMatchObject({ nodeId: lost.id, claim: lost.claim });
  });

  it('a store whose delete fails does not fail the join that replaced a lost id (the orphaned claim is a few bytes)', async () => {
    const values = memoryKeyValueStore();
    const failingDelete: KeyValueStore = { get: (key) => values.get(key), set: (key, value) => values.set(key, value), delete: () => Promise.reject(new Error('delete failed')) };
    const lost = mintNodeIdentity();
    await values.set(identityKey('claims'), lost.id);
    const id = await joinAlone(7, failingDelete, []);
    expect(isClaimedNodeId(id)).toBe(true);
    expect(id).not.toBe(lost.id);
  });
});
