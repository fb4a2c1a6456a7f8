import { describe, expect, it } from 'vitest';
import { DedupKeyCache } from './dedup-key-cache.ts';
import { clientId, type DedupKey } from './types.ts';

const key = (client: string, requestId: number): DedupKey => ({ clientId: clientId(client), requestId });

describe('DedupKeyCache', () => {
  it('answers what was remembered for exactly that (client, request), and nothing else', () => {
    const cache = new DedupKeyCache(10);
    expect(cache.get(key('a', 1))).toBeUndefined();
    cache.remember(key('a', 1), { index: 5, term: 2 });
    expect(cache.get(key('a', 1))).toEqual({ index: 5, term: 2 });
    expect(cache.get(key('a', 2))).toBeUndefined();
    expect(cache.get(key('b', 1))).toBeUndefined();
  });

  it('remembers every request of one client, not only the latest (pipelined forwards are all retried)', () => {
    const cache = new DedupKeyCache(10);
    for (let requestId = 1; requestId <= 5; requestId += 1) cache.remember(key('a', requestId), { index: 10 + requestId, term: 3 });
    expect(cache.size).toBe(5);
    for (let requestId = 1; requestId <= 5; requestId += 1) expect(cache.get(key('a', requestId))).toEqual({ index: 10 + requestId, term: 3 });
  });

  it('clear forgets every key, and the cache works from empty again, evictions in order', () => {
    const cache = new DedupKeyCache(2);
    cache.remember(key('a', 1), { index: 1, term: 1 });
    cache.remember(key('b', 1), { index: 2, term: 1 });
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.clientCount).toBe(0);
    expect(cache.oldestValue).toBeUndefined();
    expect(cache.get(key('a', 1))).toBeUndefined();
    cache.remember(key('c', 1), { index: 3, term: 2 });
    cache.remember(key('a', 1), { index: 4, term: 2 });
    cache.remember(key('d', 1), { index: 5, term: 2 });
    expect(cache.size).toBe(2);
    expect(cache.get(key('c', 1))).toBeUndefined();
    expect(cache.get(key('a', 1))).toEqual({ index: 4, term: 2 });
    expect(cache.oldestValue).toEqual({ index: 4, term: 2 });
  });

  it('evicts the least recently written first, never holding more than its capacity', () => {
    const cache = new DedupKeyCache(3);
    cache.remember(key('a', 1), { index: 1, term: 1 });
    cache.remember(key('b', 1), { index: 2, term: 1 });
    cache.remember(key('a', 2), { index: 3, term: 1 });
    cache.remember(key('c', 1), { index: 4, term: 1 });
    expect(cache.size).toBe(3);
    expect(cache.get(key('a', 1))).toBeUndefined();
    expect(cache.get(key('b', 1))).toEqual({ index: 2, term: 1 });
    cache.remember(key('c', 2), { index: 5, term: 1 });
    expect(cache.get(key('b', 1))).toBeUndefined();
    expect(cache.get(key('a', 2))).toEqual({ index: 3, term: 1 });
    expect(cache.size).toBe(3);
  });

  it('a key written again becomes the newest and holds the new append', () => {
    const cache = new DedupKeyCache(3);
    cache.remember(key('a', 1), { index: 1, term: 1 });
    cache.remember(key('b', 1), { index: 2, term: 1 });
    cache.remember(key('c', 1), { index: 3, term: 1 });
    cache.remember(key('a', 1), { index: 7, term: 2 }); // re-appended in a later term
    expect(cache.size).toBe(3);
    cache.remember(key('d', 1), { index: 8, term: 2 });
    expect(cache.get(key('a', 1))).toEqual({ index: 7, term: 2 });
    expect(cache.get(key('b', 1))).toBeUndefined();
    cache.remember(key('e', 1), { index: 9, term: 2 });
    expect(cache.get(key('c', 1))).toBeUndefined();
    expect(cache.get(key('a', 1))).toEqual({ index: 7, term: 2 });
  });

  it('keeps keys apart whatever the client ids hold (separators and digits included)', () => {
    // Pairs that collide under a naive join of the two parts, with or without ':' between them:
    // 'a:1'+2 and 'a'+'1:2'; 'a1'+2 and 'a'+12; '1:a'+2 and '2:1'+'a'... Every one must be distinct.
    const keys = [
      key('a', 1),
      key('a', 12),
      key('a1', 2),
      key('a:1', 2),
      key('a:1:2', 1),
      key('1:a', 2),
      key('2:1:a', 1),
      key(':a', 12),
      key('2:a', 1),
      key('12:a', 1),
      key('1', 2),
      key('12', 1),
      key('a:', 1),
      key(':', 1),
      key('::', 12),
      key('2::', 1),
    ];
    const cache = new DedupKeyCache(keys.length);
    keys.forEach((each, position) => cache.remember(each, { index: position + 1, term: 1 }));
    expect(cache.size).toBe(keys.length);
    keys.forEach((each, position) => expect(cache.get(each)).toEqual({ index: position + 1, term: 1 }));
  });

  it('does not mistake client "a:1" request 2 for client "a" request 1 or any other split of the same text', () => {
    const cache = new DedupKeyCache(10);
    cache.remember(key('a:1', 2), { index: 40, term: 4 });
    expect(cache.get(key('a', 1))).toBeUndefined();
    expect(cache.get(key('a', 12))).toBeUndefined();
    expect(cache.get(key('2:a', 1))).toBeUndefined();
    expect(cache.get(key('1:a', 2))).toBeUndefined();
    expect(cache.get(key('a:1', 2))).toEqual({ index: 40, term: 4 });
  });

  it('stays within its capacity however often keys are rewritten, and forgets clients with nothing left', () => {
    const cache = new DedupKeyCache(4);
    for (let round = 1; round <= 100; round += 1) {
      cache.remember(key('a', 1), { index: round, term: 1 });
      cache.remember(key('b', round), { index: round, term: 1 });
      expect(cache.size).toBeLessThanOrEqual(4);
    }
    expect(cache.get(key('a', 1))).toEqual({ index: 100, term: 1 });
    expect(cache.get(key('b', 100))).toEqual({ index: 100, term: 1 });
    expect(cache.get(key('b', 97))).toBe(undefined);
    // Auto client ids are re-minted on every restart: old ones must not stay behind as empty maps.
    for (let client = 0; client < 50; client += 1) cache.remember(key(`c${client}`, 1), { index: client, term: 2 });
    expect(cache.size).toBe(4);
    expect(cache.clientCount).toBe(4);
    expect(cache.get(key('a', 1))).toBeUndefined();
  });

  it('evicts in write order across clients after rewrites in the middle of the order', () => {
    const cache = new DedupKeyCache(3);
    cache.remember(key('a', 1), { index: 1, term: 1 });
    cache.remember(key('b', 1), { index: 2, term: 1 });
    cache.remember(key('c', 1), { index: 3, term: 1 });
    cache.remember(key('b', 1), { index: 4, term: 1 }); // b moves from the middle to the newest place
    cache.remember(key('d', 1), { index: 5, term: 1 });
    expect(cache.get(key('a', 1))).toBeUndefined();
    cache.remember(key('e', 1), { index: 6, term: 1 });
    expect(cache.get(key('c', 1))).toBeUndefined();
    expect(cache.get(key('b', 1))).toEqual({ index: 4, term: 1 });
    cache.remember(key('f', 1), { index: 7, term: 1 });
    expect(cache.get(key('b', 1))).toBeUndefined();
    expect(cache.get(key('d', 1))).toEqual({ index: 5, term: 1 });
    expect(cache.size).toBe(3);
  });

  it('names the oldest value it still holds, the next to fall out', () => {
    const cache = new DedupKeyCache(2);
    expect(cache.oldestValue).toBeUndefined();
    cache.remember(key('a', 1), { index: 1, term: 1 });
    cache.remember(key('a', 2), { index: 2, term: 1 });
    expect(cache.oldestValue).toEqual({ index: 1, term: 1 });
    cache.remember(key('a', 3), { index: 3, term: 1 });
    expect(cache.oldestValue).toEqual({ index: 2, term: 1 });
  });
});
