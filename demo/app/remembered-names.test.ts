import { describe, expect, it } from 'vitest';
import { createRememberedNames, maxRememberedNames, rememberedNamesKey, type NameStorage } from './remembered-names.ts';

/** localStorage as a Map, counting writes (gossip repeats every half second; storage should not). */
function memoryStorage(initial: Record<string, string> = {}): NameStorage & { writes: number; items: Map<string, string> } {
  const items = new Map(Object.entries(initial));
  return {
    items,
    writes: 0,
    getItem: (key) => items.get(key) ?? null,
    setItem(key, value) {
      this.writes += 1;
      items.set(key, value);
    },
  };
}

describe('remembered names', () => {
  it('gives a later page of the same room the names an earlier one heard, and another room none of them', () => {
    const storage = memoryStorage();
    const first = createRememberedNames(storage, 'board');
    first.remember('peer-bo', 'Bo');
    first.remember('peer-cy', 'Cy');
    const reloaded = createRememberedNames(storage, 'board');
    expect([reloaded.get('peer-bo'), reloaded.get('peer-cy')]).toEqual(['Bo', 'Cy']);
    expect(createRememberedNames(storage, 'other').get('peer-bo')).toBeUndefined();
  });

  it('writes only when a name is new or changed', () => {
    const storage = memoryStorage();
    const names = createRememberedNames(storage, 'board');
    for (let gossip = 0; gossip < 10; gossip += 1) names.remember('peer-bo', 'Bo');
    expect(storage.writes).toBe(1);
    names.remember('peer-bo', 'Bo Renamed');
    expect(storage.writes).toBe(2);
    expect(createRememberedNames(storage, 'board').get('peer-bo')).toBe('Bo Renamed');
  });

  it('keeps the most recently heard members when more than the bound have been heard', () => {
    const storage = memoryStorage();
    const names = createRememberedNames(storage, 'board');
    for (let member = 0; member < maxRememberedNames + 10; member += 1) names.remember(`peer-${member}`, `Name ${member}`);
    // Heard again: now the most recent, so it outlives the ones heard after it once.
    names.remember('peer-0', 'Zero');
    names.remember('peer-x', 'X');
    const reloaded = createRememberedNames(storage, 'board');
    expect(reloaded.get('peer-0')).toBe('Zero');
    expect(reloaded.get('peer-x')).toBe('X');
    expect(reloaded.get('peer-10')).toBeUndefined();
    expect(reloaded.get(`peer-${maxRememberedNames + 9}`)).toBe(`Name ${maxRememberedNames + 9}`);
    expect((JSON.parse(storage.items.get(rememberedNamesKey('board')) ?? '[]') as unknown[]).length).toBe(maxRememberedNames);
  });

  it('ignores a blank name and caps a long one as the page caps its own', () => {
    const storage = memoryStorage();
    const names = createRememberedNames(storage, 'board');
    names.remember('peer-bo', '   ');
    expect(names.get('peer-bo')).toBeUndefined();
    names.remember('peer-bo', `  ${'b'.repeat(100)}  `);
    expect(names.get('peer-bo')).toBe('b'.repeat(64));
  });

  it('starts empty from stored text that is not its own, keeping only well-formed pairs', () => {
    const key = rememberedNamesKey('board');
    expect(createRememberedNames(memoryStorage({ [key]: '{not json' }), 'board').get('peer-bo')).toBeUndefined();
    expect(createRememberedNames(memoryStorage({ [key]: '{"peer-bo":"Bo"}' }), 'board').get('peer-bo')).toBeUndefined();
    const mixed = createRememberedNames(memoryStorage({ [key]: JSON.stringify([['peer-bo', 'Bo'], ['peer-cy', 7], 'x', ['peer-dee', ' '], ['peer-eve', 'Eve', 'extra']]) }), 'board');
    expect([mixed.get('peer-bo'), mixed.get('peer-cy'), mixed.get('peer-dee'), mixed.get('peer-eve')]).toEqual(['Bo', undefined, undefined, undefined]);
  });

  it('keeps working for the page when the storage refuses to write', () => {
    const storage: NameStorage = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
    };
    const names = createRememberedNames(storage, 'board');
    names.remember('peer-bo', 'Bo');
    expect(names.get('peer-bo')).toBe('Bo');
  });
});
