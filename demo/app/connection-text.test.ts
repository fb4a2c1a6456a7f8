import { describe, expect, it } from 'vitest';
import { connectionExplanation, connectionText, durationText } from './connection-text.ts';

describe('the connection column in words', () => {
  it('says how long a silent member has been silent, in whole units', () => {
    expect(connectionText({ connection: 'silent', silentForMs: 3_000 })).toBe('silent 3 s');
    expect(connectionText({ connection: 'silent', silentForMs: 4_999 })).toBe('silent 4 s');
    expect(connectionText({ connection: 'silent', silentForMs: 59_999 })).toBe('silent 59 s');
    expect(connectionText({ connection: 'silent', silentForMs: 125_000 })).toBe('silent 2 min');
    expect(durationText(2 * 3_600_000 + 59 * 60_000)).toBe('2 h');
  });

  it('names the other states as they are', () => {
    expect(connectionText({ connection: 'this page', silentForMs: null })).toBe('this page');
    expect(connectionText({ connection: 'connected', silentForMs: null })).toBe('connected');
    expect(connectionText({ connection: 'unreachable', silentForMs: null })).toBe('unreachable');
  });

  it('explains on hover that a silent member still has an open connection', () => {
    expect(connectionExplanation({ connection: 'silent', silentForMs: 4_200 })).toBe('a direct connection is open, but this page has received nothing from it for 4 s: it may be cut off, frozen or closing');
  });
});
