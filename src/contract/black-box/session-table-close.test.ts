import { describe, it, expect } from 'vitest';
import { ClientSessionTable, clientId } from '../../index.ts';

const A = clientId('n2-aaaaaaaaaaaaaaaa');
const B = clientId('n2-bbbbbbbbbbbbbbbb');
const C = clientId('n2-cccccccccccccccc');

describe('ClientSessionTable: closeSession of one client must not resurrect another client\'s replays', () => {
  it('control (passes): without closeSession, a retired id\'s replay and straggler are refused and the live id keeps applying', () => {
    const t = new ClientSessionTable();
    expect(t.shouldApply({ clientId: A, requestId: 1 })).toBe(true);
    expect(t.shouldApply({ clientId: B, requestId: 1 })).toBe(true);
    expect(t.shouldApply({ clientId: C, requestId: 1 })).toBe(true);
    expect(t.shouldApply({ clientId: A, requestId: 1 })).toBe(false);
    expect(t.shouldApply({ clientId: A, requestId: 2 })).toBe(false);
    expect(t.shouldApply({ clientId: C, requestId: 2 })).toBe(true);
  });
  it('closing the live auto id of a node does not make a replay of its retired predecessor apply again', () => {
    const t = new ClientSessionTable();
    expect(t.shouldApply({ clientId: A, requestId: 1 })).toBe(true);
    expect(t.shouldApply({ clientId: B, requestId: 1 })).toBe(true); // A superseded
    expect(t.shouldApply({ clientId: A, requestId: 1 })).toBe(false); // replay: refused
    t.closeSession(B);
    expect(t.shouldApply({ clientId: A, requestId: 1 })).toBe(false); // still a replay of an applied key
  });
  it('after closing the live auto id, a straggler of a retired predecessor does not retire the next live id', () => {
    const t = new ClientSessionTable();
    expect(t.shouldApply({ clientId: A, requestId: 1 })).toBe(true);
    expect(t.shouldApply({ clientId: B, requestId: 1 })).toBe(true); // A retired
    t.closeSession(B);
    expect(t.shouldApply({ clientId: C, requestId: 1 })).toBe(true); // next incarnation of n2
    t.shouldApply({ clientId: A, requestId: 2 }); // a straggler of A (SPEC: A was dropped as older)
    expect(t.shouldApply({ clientId: C, requestId: 2 })).toBe(true); // the live client's next command must apply
  });
  it('closing a retired id does not make a replay of another retired id apply again', () => {
    const t = new ClientSessionTable();
    expect(t.shouldApply({ clientId: A, requestId: 1 })).toBe(true);
    expect(t.shouldApply({ clientId: B, requestId: 1 })).toBe(true);
    expect(t.shouldApply({ clientId: C, requestId: 1 })).toBe(true);
    t.closeSession(A);
    expect(t.shouldApply({ clientId: B, requestId: 1 })).toBe(false); // B#1 was applied: replay
    expect(t.shouldApply({ clientId: C, requestId: 1 })).toBe(false);
    expect(t.shouldApply({ clientId: C, requestId: 2 })).toBe(true);
  });
});

describe('DOUBT: closeSession of a retired auto id', () => {
  it('after closeSession(A) of a retired auto id A, the library still refuses A (SPEC: "forgets a client on closeSession")', () => {
    const t = new ClientSessionTable();
    t.shouldApply({ clientId: A, requestId: 1 });
    t.shouldApply({ clientId: B, requestId: 1 });
    t.closeSession(A);
    // the library keeps refusing A (it remembers A as a retired incarnation); SPEC says the client is forgotten
    expect(t.shouldApply({ clientId: A, requestId: 5 })).toBe(false);
  });
});
