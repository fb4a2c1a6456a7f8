import { describe, expect, it } from 'vitest';
import { nodeId } from 'raftmesh';
import { createTroubleNotes } from './trouble-notes.ts';

const retry = (attempt: number, reason: string) => ({ type: 'signalingRetry', attempt, delayMs: 1_500, reason, at: 0 }) as const;

describe('the timeline notes of a waiting join', () => {
  it('note a run of signaling failures once, again when the reason changes or a new run starts', () => {
    const note = createTroubleNotes();
    const refused = 'connect ECONNREFUSED 127.0.0.1:8787';
    expect(note(retry(1, refused))).toBe(`the signaling server: attempt 1 failed (${refused}); retrying in 1.5 s`);
    expect(note(retry(2, refused))).toBeNull();
    expect(note(retry(3, refused))).toBeNull();
    expect(note(retry(4, 'the server said member-in-use'))).toBe('the signaling server: attempt 4 failed (the server said member-in-use); retrying in 1.5 s');
    expect(note(retry(1, 'the server said member-in-use'))).toMatch(/^the signaling server: attempt 1 failed/);
  });

  it('name the peer that failed the room-secret handshake', () => {
    const note = createTroubleNotes()({ type: 'peerAuthenticationFailed', peer: nodeId('peer-kb'), reason: 'wrong proof', failures: 2, at: 0 });
    expect(typeof note === 'function' ? note((id) => `Bo (${id})`) : note).toBe('Bo (peer-kb) failed the room-secret handshake (wrong proof): it has another secret, or someone signals in its name; not connected');
  });
});
