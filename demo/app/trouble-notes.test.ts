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

  const failed = (peer: string, reason: string) => ({ type: 'peerAuthenticationFailed', peer: nodeId(peer), reason, failures: 1, at: 0 }) as const;
  const text = (note: ReturnType<ReturnType<typeof createTroubleNotes>>) => (typeof note === 'function' ? note((id) => `Bo (${id})`) : note);

  it('name the peer that failed the room-secret handshake', () => {
    const note = createTroubleNotes()({ ...failed('peer-kb', 'wrong proof'), failures: 2 });
    expect(text(note)).toBe('Bo (peer-kb) is not connected: it failed the room-secret check, so it was given another secret (?secret= in the URL) or someone else signals under its id. The handshake said: wrong proof');
  });

  it('note each peer\'s failure once for as long as its reason stays the same', () => {
    const note = createTroubleNotes();
    expect(text(note(failed('peer-kb', 'wrong proof')))).toMatch(/^Bo \(peer-kb\) is not connected/);
    expect(note(failed('peer-kb', 'wrong proof'))).toBeNull();
    expect(text(note(failed('peer-kc', 'wrong proof')))).toMatch(/^Bo \(peer-kc\) is not connected/);
    expect(text(note(failed('peer-kb', 'proof before hello')))).toMatch(/The handshake said: proof before hello$/);
    expect(note(failed('peer-kb', 'proof before hello'))).toBeNull();
  });

  it('forget the oldest of more than 64 peers, so a long run of strangers stays bounded', () => {
    const note = createTroubleNotes();
    for (let each = 0; each <= 64; each += 1) expect(note(failed(`peer-k${each}`, 'wrong proof'))).not.toBeNull();
    expect(note(failed('peer-k64', 'wrong proof'))).toBeNull();
    expect(note(failed('peer-k0', 'wrong proof'))).not.toBeNull();
  });
});
