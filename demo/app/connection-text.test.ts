import { describe, expect, it } from 'vitest';
import { connectionExplanation, connectionText, durationText, signalingDownText } from './connection-text.ts';

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

describe('the header with the signaling server down', () => {
  it('says peers already connected keep working, or, with none, that only this browser’s tabs see the changes', () => {
    expect(signalingDownText('ws://h:8787', 0)).toBe("signaling server ws://h:8787 unreachable: only this browser's tabs see these changes");
    expect(signalingDownText('ws://h:8787', 1)).toBe('signaling server ws://h:8787 unreachable: the 1 peer connected keeps working with this page; pages in other browsers cannot join until it is back (this browser\'s tabs still can)');
    expect(signalingDownText('ws://h:8787', 2)).toBe('signaling server ws://h:8787 unreachable: the 2 peers connected keep working with this page; pages in other browsers cannot join until it is back (this browser\'s tabs still can)');
  });
});
