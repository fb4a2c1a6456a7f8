// The Node side of a consumer that installed raftmesh from its tarball: every entry of the
// exports map imports by name, a one-node cluster on FileRaftStorage commits, restarts and
// replays what it committed, and the root's startSignalingServer serves on a loopback port.
// Built with tsc against the packed declarations (tsconfig.node.json), then run by Node from the
// consumer's folder; it prints one JSON line.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLoopbackNetwork, createRaftNode, nodeId, type RaftNode, startSignalingServer as startFromRoot } from 'raftmesh';
import { FileRaftStorage, startEdgePeer } from 'raftmesh/node';
import { joinRoom as joinRoomWithoutEngine } from 'raftmesh/rooms';
import { startSignalingServer } from 'raftmesh/signaling-server';
import { createSimulatedCluster } from 'raftmesh/testing';
import { createWebRtcTransport } from 'raftmesh/webrtc';
import { workerNodeFactory } from 'raftmesh/worker';

const directory = await mkdtemp(join(tmpdir(), 'raftmesh-packed-consumer-'));
try {
  const id = nodeId('edge');
  // A node does not close the storage it was handed: the caller does, after the node.
  const run = async <T>(use: (node: RaftNode) => Promise<T>): Promise<T> => {
    const storage = await FileRaftStorage.open(directory);
    const node = await createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage });
    try {
      await node.awaitLeadership();
      return await use(node);
    } finally {
      await node.close();
      await storage.close();
    }
  };
  const entry = await run((node) => node.propose(new TextEncoder().encode('from node_modules')));
  const replayed = await run(async (node) => {
    const commands: string[] = [];
    for await (const item of node.committedFrom(1)) {
      if (item.type === 'entry') commands.push(new TextDecoder().decode(item.entry.command));
      if ((item.type === 'entry' ? item.entry.index : item.type === 'internal' ? item.index : 0) >= entry.index) break;
    }
    return commands;
  });
  // The root loads the server on the first call, from a file beside its own in dist/.
  const server = await startFromRoot({ port: 0, host: '127.0.0.1' });
  const signalingUrl = server.url;
  await server.close();
  const entries = { startEdgePeer, joinRoomWithoutEngine, startSignalingServer, createSimulatedCluster, createWebRtcTransport, workerNodeFactory };
  // eslint-disable-next-line no-console -- the spec reads this line
  console.log(JSON.stringify({ index: entry.index, replayed, signalingUrl, functions: Object.entries(entries).filter(([, value]) => typeof value === 'function').map(([name]) => name) }));
} finally {
  await rm(directory, { recursive: true, force: true });
}
