import { describe, expect, it } from 'vitest';
import { nodeId } from 'raftmesh';
import { joinHintOf, type JoinHintInputs } from './join-hint.ts';

const [a, b] = [nodeId('peer-a'), nodeId('peer-b')];

const alone: JoinHintInputs = {
  membership: { voters: [a] },
  self: 'peer-a',
  connectedPeers: 0,
  unreachablePeers: 0,
  connected: true,
  signalingDown: false,
  href: 'http://127.0.0.1:5173/?room=board&name=Ana',
};

describe('the hint a page alone in its room shows', () => {
  it('gives this page’s address without its name, for any browser', () => {
    expect(joinHintOf(alone)).toEqual({ address: 'http://127.0.0.1:5173/?room=board', thisBrowserOnly: false });
  });

  it('says only this browser’s tabs can join while the signaling server is down', () => {
    expect(joinHintOf({ ...alone, signalingDown: true })).toEqual({ address: 'http://127.0.0.1:5173/?room=board', thisBrowserOnly: true });
  });

  it('is not shown when the page is not alone, or is told otherwise elsewhere', () => {
    expect(joinHintOf({ ...alone, membership: { voters: [a, b] } })).toBeNull();
    expect(joinHintOf({ ...alone, membership: { voters: [a], learners: [b] } })).toBeNull();
    expect(joinHintOf({ ...alone, membership: { voters: [b] } })).toBeNull(); // not yet a member of the room's cluster
    expect(joinHintOf({ ...alone, connectedPeers: 1 })).toBeNull(); // a page joining: connected before it is a member
    expect(joinHintOf({ ...alone, unreachablePeers: 1 })).toBeNull(); // the banner names a peer it cannot connect to
    expect(joinHintOf({ ...alone, connected: false })).toBeNull(); // cut off by its user
  });
});
