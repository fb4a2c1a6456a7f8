// Item 1: every name API.md lists exists at runtime, with the kind API.md implies, on each entry.
import { describe, expect, it } from 'vitest';
import * as root from '../../index.ts';
import * as testing from '../../testing/index.ts';
import * as worker from '../../worker.ts';
import * as webrtc from '../../webrtc.ts';
import * as rooms from '../../rooms.ts';
import * as nodeEntry from '../../node.ts';
import * as signalingServer from '../../signaling/server/index.ts';
import pkg from '../../../package.json' with { type: 'json' };

const isClass = (v: unknown) => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v));

describe('package.json exports map', () => {
  it('has every subpath API.md and the README name, pointing at the entry files', () => {
    const exp = pkg.exports as Record<string, { import: { default: string; types: string } }>;
    expect(Object.keys(exp).sort()).toEqual(['.', './node', './rooms', './signaling-server', './testing', './webrtc', './worker'].sort());
    expect(exp['.']!.import.default).toBe('./dist/index.js');
    expect(exp['./worker']!.import.default).toBe('./dist/worker.js');
    expect(exp['./webrtc']!.import.default).toBe('./dist/webrtc.js');
    expect(exp['./rooms']!.import.default).toBe('./dist/rooms.js');
    expect(exp['./signaling-server']!.import.default).toBe('./dist/signaling/server/index.js');
    expect(exp['./testing']!.import.default).toBe('./dist/testing/index.js');
    expect(exp['./node']!.import.default).toBe('./dist/node.js');
  });
});

describe('raftmesh (root): everything in API.md', () => {
  it('functions', () => {
    for (const name of ['nodeId', 'clientId', 'createRaftNode', 'awaitRead', 'seededRandom',
      'createWorkerRaftNode', 'startSignalingServer'] as const) {
      expect(typeof (root as Record<string, unknown>)[name], name).toBe('function');
      expect(isClass((root as Record<string, unknown>)[name]), `${name} is not a class`).toBe(false);
    }
  });
  it('classes', () => {
    for (const name of ['InMemoryRaftStorage', 'IndexedDbRaftStorage', 'ClientSessionTable', 'VirtualClock',
      'NotLeaderError', 'LeadershipLostError', 'MembershipChangeInProgressError', 'LeadershipTransferError',
      'ClientIdCollisionError', 'RaftClosedError'] as const) {
      expect(isClass((root as Record<string, unknown>)[name]), name).toBe(true);
    }
    expect(typeof root.IndexedDbRaftStorage.open).toBe('function');
    expect(typeof root.ClientSessionTable.fromBytes).toBe('function');
    expect(typeof root.IndexedDbRaftStorage.prototype.close).toBe('function');
  });
  it('errors extend Error and set name to the class name', () => {
    for (const name of ['NotLeaderError', 'LeadershipLostError', 'MembershipChangeInProgressError', 'LeadershipTransferError',
      'ClientIdCollisionError', 'RaftClosedError'] as const) {
      const C = root[name] as unknown as { prototype: object };
      expect(C.prototype instanceof Error, name).toBe(true);
    }
  });
  it('WebRtcTransport (API.md table): the factory is there; the name itself is a type (README "Status of the API")', () => {
    expect(typeof root.createWebRtcTransport).toBe('function');
  });
  it('VirtualClock has advance and runUntil; seededRandom returns a () => number in [0,1)', () => {
    const c = new root.VirtualClock();
    expect(typeof c.advance).toBe('function');
    expect(typeof c.runUntil).toBe('function');
    expect(typeof c.now()).toBe('number');
    const r = root.seededRandom(7);
    const xs = Array.from({ length: 100 }, () => r());
    expect(xs.every((x) => typeof x === 'number' && x >= 0 && x < 1)).toBe(true);
    const r2 = root.seededRandom(7);
    expect(Array.from({ length: 100 }, () => r2())).toEqual(xs);
  });
  it('nodeId rejects the empty string; clientId makes one', () => {
    expect(() => root.nodeId('')).toThrow();
    expect(root.nodeId('a')).toBe('a');
    expect(root.clientId('x')).toBe('x');
  });
});

describe('raftmesh/testing', () => {
  it('VirtualClock and seededRandom, and what the README names', () => {
    expect(isClass(testing.VirtualClock)).toBe(true);
    expect(typeof testing.seededRandom).toBe('function');
    expect(typeof testing.createSimulatedNetwork).toBe('function');
    expect(typeof testing.createSimulatedCluster).toBe('function');
    expect(isClass(testing.SafetyChecker)).toBe(true);
    expect(typeof (testing as Record<string, unknown>).checkLinearizability).toBe('function');
    expect(typeof (testing as Record<string, unknown>).createKeyValueStateMachine).toBe('function');
  });
  it('the root and testing VirtualClock are the same class', () => {
    expect(testing.VirtualClock).toBe(root.VirtualClock);
    expect(testing.seededRandom).toBe(root.seededRandom);
  });
});

describe('raftmesh/worker', () => {
  it('createWorkerRaftNode is a function (same as root)', () => {
    expect(typeof worker.createWorkerRaftNode).toBe('function');
    expect(worker.createWorkerRaftNode).toBe(root.createWorkerRaftNode);
    expect(typeof worker.workerNodeFactory).toBe('function');
  });
});

describe('raftmesh/webrtc', () => {
  it('createWebRtcTransport and the signaling clients the README uses', () => {
    for (const name of ['createWebRtcTransport', 'createWebSocketSignalingClient', 'createBroadcastChannelSignalingClient',
      'combineSignalingClients'] as const) {
      expect(typeof (webrtc as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});

describe('raftmesh/rooms (README "Rooms")', () => {
  it("joinRoom, not the root's: it has no default engine, so it refuses options without createNode", async () => {
    expect(typeof rooms.joinRoom).toBe('function');
    expect(rooms.joinRoom).not.toBe(root.joinRoom);
    const options = { room: 'r', signaling: () => { throw new Error('not reached'); }, createTransport: () => { throw new Error('not reached'); }, store: { initialState: 0, apply: (state: number) => state } };
    await expect(rooms.joinRoom(options as never)).rejects.toThrow(/createNode/);
  });
});

describe('raftmesh/signaling-server', () => {
  it('startSignalingServer is a function', () => {
    expect(typeof signalingServer.startSignalingServer).toBe('function');
  });
});

describe('raftmesh/node (README)', () => {
  it('FileRaftStorage and startEdgePeer', () => {
    expect(isClass(nodeEntry.FileRaftStorage)).toBe(true);
    expect(typeof nodeEntry.startEdgePeer).toBe('function');
  });

  it('withBindAddress, for a WebRTC transport of its own in Node (node-datachannel binds no loopback address by itself)', () => {
    class Base {
      constructor(readonly configuration?: RTCConfiguration) {}
    }
    const implementation = { RTCPeerConnection: Base, RTCSessionDescription: Object, RTCIceCandidate: Object };
    const Bound = nodeEntry.withBindAddress(implementation, '127.0.0.1').RTCPeerConnection as new (configuration: RTCConfiguration) => Base;
    expect(new Bound({ iceServers: [] }).configuration).toEqual({ iceServers: [], bindAddress: '127.0.0.1' });
  });
});
