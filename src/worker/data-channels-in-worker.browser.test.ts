// Channels 2 and 3 of every connection in the engine's worker (transport/webrtc/
// data-channel-hand-off.ts), in real Chromium with real WebRTC: once the transports hand them
// over, Raft frames travel from worker to worker and the page sends none, so a page whose main
// thread is blocked for longer than any election timeout costs the cluster nothing; and a node
// restarted in a new worker on the same page gets fresh channels on the live connections.
import { afterEach, describe, expect, it } from 'vitest';
import type { RaftMetric } from '../core/events.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { waitFor } from '../driver/raft-node-contract.test-support.ts';
import { createBroadcastChannelSignalingClient } from '../signaling/broadcast-channel-client.ts';
import { randomNonce } from '../signaling/hmac.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import type { SignalingClient } from '../signaling/signaling-client.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { createWebRtcTransport, type WebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';
import { blockPageAndExpectNoElection, blockTestConfig, bytes, recordElections } from './blocked-page.test-support.ts';
import { createWorkerRaftNode } from './worker-client.ts';

const testTimeoutMs = 60_000;

interface CountedTransport {
  readonly transport: RaftTransport;
  /** Raft frames the page itself handed to the WebRTC transport. */
  pageSends: number;
}

/** The transport as the node sees it, counting what goes through the page (as a room's wrapper passes hand-off through). */
function countPageSends(inner: WebRtcTransport): CountedTransport {
  const counted: CountedTransport = {
    pageSends: 0,
    transport: {
      selfId: inner.selfId,
      peers: inner.peers,
      incoming: inner.incoming,
      maxPayloadBytes: inner.maxPayloadBytes,
      ...(inner.orderedFrameBytes === undefined ? {} : { orderedFrameBytes: inner.orderedFrameBytes }),
      send(to, frame) {
        counted.pageSends++;
        inner.send(to, frame);
      },
      serveDataChannelsTo: (host) => inner.serveDataChannelsTo(host),
    },
  };
  return counted;
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** Three WebRTC transports in one room, connected before any worker exists. */
async function connectedTransports() {
  const roomId = `hand-off-${randomNonce().slice(0, 12)}`;
  const secret = randomNonce();
  const ids = ['n1', 'n2', 'n3'].map((name) => nodeId(name));
  const signalings: SignalingClient[] = ids.map((id) => createBroadcastChannelSignalingClient({ roomId, nodeId: id, secret }));
  const transports = signalings.map((signaling) => createWebRtcTransport({ signaling, secret, iceServers: [] }));
  cleanup.push(() => {
    for (const transport of transports) transport.close();
    for (const signaling of signalings) signaling.close();
  });
  await waitFor(() => transports.every((transport) => transport.peers.value.size === 2), 'the three transports to connect');
  return { ids, transports, counted: transports.map(countPageSends) };
}

/** In memory, unless `storageName` names an IndexedDB database (a node that restarts keeps its log). */
function startWorkerNode(id: NodeId, voters: readonly NodeId[], counted: CountedTransport, onMetric: (metric: RaftMetric) => void, storageName?: string): Promise<RaftNode> {
  const storage = storageName === undefined ? ({ type: 'memory' } as const) : ({ type: 'indexeddb', name: storageName } as const);
  return createWorkerRaftNode({ id, clusterConfig: { voters: [...voters] }, transport: counted.transport, storage, raftConfig: blockTestConfig, onMetric });
}

/**
 * Until every connection has its fresh pair and both sides allow it, some frames still go through
 * the page; then a whole round (a commit on every node, a read everywhere) sends none there.
 * Returns how many such rounds in a row it saw (3 once it got there).
 */
async function roundsWithoutPageSends(nodes: readonly RaftNode[], leader: RaftNode, counted: readonly CountedTransport[]): Promise<number> {
  const pageSends = (): number => counted.reduce((sum, entry) => sum + entry.pageSends, 0);
  let quietRounds = 0;
  for (let round = 0; round < 100 && quietRounds < 3; round++) {
    const before = pageSends();
    await leader.propose(bytes(`round ${round}`));
    await waitFor(() => nodes.every((node) => node.commitIndex.value === leader.commitIndex.value), 'every node to commit');
    await Promise.all(nodes.map((node) => node.readIndex()));
    quietRounds = pageSends() === before ? quietRounds + 1 : 0;
  }
  return quietRounds;
}

describe('data channels in the engine worker (real WebRTC)', () => {
  it(
    'once the channels moved, the page sends no Raft frame, and blocking it for 2 seconds costs no election',
    async () => {
      // Connected before any worker exists: each worker gets fresh channels on these connections.
      const { ids, transports, counted } = await connectedTransports();
      expect(transports.map((transport) => transport.counters.dataChannelsHandedOver)).toEqual([0, 0, 0]);
      const { elections, onMetric } = recordElections();
      const nodes: RaftNode[] = await Promise.all(ids.map((id, position) => startWorkerNode(id, ids, counted[position]!, onMetric(id))));
      cleanup.push(async () => {
        await Promise.all(nodes.map((node) => node.close()));
      });
      await waitFor(() => nodes.some((node) => node.role.value === 'leader'), 'a leader');
      const leader = nodes.find((node) => node.role.value === 'leader')!;

      expect(await roundsWithoutPageSends(nodes, leader, counted)).toBe(3);
      for (const transport of transports) {
        expect(transport.counters.dataChannelsHandedOver).toBeGreaterThanOrEqual(2);
        // Created on the live connections (Chromium transfers them in the creating task too): no new connection.
        expect(transport.counters.engineChannelsReopened).toBeGreaterThanOrEqual(2);
        expect([transport.counters.connectionAttempts, transport.counters.connectionsEstablished]).toEqual([2, 2]);
      }

      const pageSends = (): number => counted.reduce((sum, entry) => sum + entry.pageSends, 0);
      const countersBefore = transports.map((transport) => transport.counters);
      const sendsBefore = pageSends();
      await blockPageAndExpectNoElection(nodes, leader, elections);
      expect(pageSends()).toBe(sendsBefore);
      // What the workers sent and received meanwhile reaches the page's counters (within their
      // report interval): none of it went through the page.
      await waitFor(
        () => transports.every((transport, position) => transport.counters.framesSent > countersBefore[position]!.framesSent && transport.counters.framesReceived > countersBefore[position]!.framesReceived),
        'the workers to report their counters',
      );
    },
    testTimeoutMs,
  );

  it(
    'a node restarted in a new worker on the same page gets fresh channels on the live connections, and its frames skip the page again',
    async () => {
      const { ids, transports, counted } = await connectedTransports();
      const { onMetric } = recordElections();
      const storageNames = ids.map((id) => `hand-off-restart-${id}-${randomNonce().slice(0, 12)}`);
      cleanup.push(async () => {
        await Promise.all(storageNames.map((name) => IndexedDbRaftStorage.destroy(name)));
      });
      const nodes: RaftNode[] = await Promise.all(ids.map((id, position) => startWorkerNode(id, ids, counted[position]!, onMetric(id), storageNames[position])));
      cleanup.push(async () => {
        await Promise.all(nodes.map((node) => node.close()));
      });
      await waitFor(() => nodes.some((node) => node.role.value === 'leader'), 'a leader');
      const leader = nodes.find((node) => node.role.value === 'leader')!;
      expect(await roundsWithoutPageSends(nodes, leader, counted)).toBe(3);

      // A follower's engine stops (its worker goes, the page withdraws its channels) and starts
      // again in a new worker on the same page, transport and database.
      const position = nodes.findIndex((node) => node !== leader);
      const restarting = transports[position]!;
      const before = { ...restarting.counters };
      await nodes[position]!.close();
      nodes[position] = await startWorkerNode(ids[position]!, ids, counted[position]!, onMetric(ids[position]!), storageNames[position]);
      await waitFor(() => nodes[position]!.commitIndex.value === leader.commitIndex.value, 'the restarted node to catch up');

      expect(await roundsWithoutPageSends(nodes, leader, counted)).toBe(3);
      // One fresh pair per peer at least, and not one new connection.
      expect(restarting.counters.engineChannelsReopened - before.engineChannelsReopened).toBeGreaterThanOrEqual(2);
      expect(restarting.counters.dataChannelsHandedOver - before.dataChannelsHandedOver).toBeGreaterThanOrEqual(2);
      for (const transport of transports) expect([transport.counters.connectionAttempts, transport.counters.connectionsEstablished, transport.counters.connectionsLost]).toEqual([2, 2, 0]);
    },
    testTimeoutMs,
  );
});
