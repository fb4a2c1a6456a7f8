// An application that installed raftmesh from its tarball (e2e/packed-package.spec.ts): it imports
// the package by name, as a user does, so the bundler meets raftmesh in node_modules, where
// the worker entry has to be found beside the published worker client. A one-node cluster whose
// engine and IndexedDB storage live in that worker, restarted once to show the storage is durable.
// Then a one-peer room, joinRoom on its default engine (this page's thread), as an app that
// installed the package runs one; and another as the README's app runs it, joinRoom from
// raftmesh/rooms (no engine of its own) with the engine and its storage in a worker, which also
// reads (on a rejoin) and deletes the storage: this page never opens that database.
import { createLoopbackNetwork, IndexedDbRaftStorage, joinRoom, memoryKeyValueStore, nodeId, type RaftNode } from 'raftmesh';
import { joinRoom as joinRoomWithoutEngine } from 'raftmesh/rooms';
import { createBroadcastChannelSignalingClient, createWebRtcTransport } from 'raftmesh/webrtc';
import { createWorkerRaftNode, workerNodeFactory } from 'raftmesh/worker';

declare global {
  interface Window {
    consumerTest: () => Promise<{ readonly firstIndex: number; readonly replayed: readonly string[]; readonly webRtcEntry: string; readonly roomTotal: number; readonly workerRoomTotal: number; readonly rejoinedSameId: boolean; readonly discarded: boolean }>;
  }
}

window.consumerTest = async () => {
  const id = nodeId('consumer');
  const storageName = `packed-consumer-${crypto.randomUUID()}`;
  const open = (): Promise<RaftNode> => createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'indexeddb', name: storageName } });
  const first = await open();
  await first.awaitLeadership();
  const entry = await first.propose(new TextEncoder().encode('from node_modules'));
  await first.close();
  const second = await open();
  await second.awaitLeadership();
  const replayed: string[] = [];
  for await (const item of second.committedFrom(1)) {
    if (item.type === 'entry') replayed.push(new TextDecoder().decode(item.entry.command));
    if ((item.type === 'entry' ? item.entry.index : item.type === 'internal' ? item.index : 0) >= entry.index) break;
  }
  await second.close();
  // A lone peer: it hears no member during discoveryMs and bootstraps a one-voter room.
  const roomName = `packed-room-${crypto.randomUUID()}`;
  const room = await joinRoom<{ readonly total: number }, { readonly add: number }>({
    room: roomName,
    signaling: (context) => createBroadcastChannelSignalingClient(context),
    createTransport: (signaling) => createWebRtcTransport({ signaling, iceServers: [] }),
    storage: (id) => IndexedDbRaftStorage.open(`${roomName}:${id}`),
    discoveryMs: 100,
    store: { initialState: { total: 0 }, apply: (state, command) => ({ total: state.total + command.add }) },
  });
  await room.store.dispatch({ add: 2 });
  const { state } = await room.store.dispatch({ add: 3 });
  await room.leave();
  const workerRoomName = `packed-worker-room-${crypto.randomUUID()}`;
  const engine = workerNodeFactory({ storage: (id) => ({ type: 'indexeddb', name: `${workerRoomName}:${id}` }) });
  // One identity store for both joins, as a reloaded tab has (the default one gives the tab's slot
  // back at leave(), so a second join would find the same id too, but through the browser's locks).
  const identityStore = memoryKeyValueStore();
  const joinWorkerRoom = () =>
    joinRoomWithoutEngine<{ readonly total: number }, { readonly add: number }>({
      room: workerRoomName,
      signaling: (context) => createBroadcastChannelSignalingClient(context),
      // The README's app: the transport context (the room secret, when there is one) spread in.
      createTransport: (signaling, context) => createWebRtcTransport({ signaling, ...context, iceServers: [] }),
      createNode: engine,
      discardStorage: engine.discardStorage,
      identityStore,
      discoveryMs: 100,
      store: { initialState: { total: 0 }, apply: (state, command) => ({ total: state.total + command.add }) },
    });
  const workerRoom = await joinWorkerRoom();
  await workerRoom.store.dispatch({ add: 7 });
  const workerRoomId = workerRoom.id;
  await workerRoom.leave();
  // Again, as a reload does: the same id, whose log the factory finds in a worker, and the room
  // restarts on it, the 7 still there.
  const rejoined = await joinWorkerRoom();
  const rejoinedSameId = rejoined.id === workerRoomId;
  const workerRoomState = (await rejoined.store.dispatch({ add: 0 })).state;
  await rejoined.leave();
  // Read in a worker: a log there, then none once deleted in a worker (that read opens an empty
  // database, deleted in turn).
  const heldLog = (await engine.readStoredState(workerRoomId)).holdsLog;
  await engine.discardStorage(workerRoomId);
  const discarded = heldLog && !(await engine.readStoredState(workerRoomId)).holdsLog;
  await engine.discardStorage(workerRoomId);
  return { firstIndex: entry.index, replayed, webRtcEntry: typeof createWebRtcTransport, roomTotal: state.total, workerRoomTotal: workerRoomState.total, rejoinedSameId, discarded };
};
