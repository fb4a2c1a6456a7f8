import { describe, expect, it } from 'vitest';
import { createRememberedNames, heardAgainWriteMs, maxRememberedNames, rememberedNamesKey, type NameStorage } from './remembered-names.ts';

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
    first.remember('peer-bo', 'Bo', 1_000);
    first.remember('peer-cy', 'Cy', 1_000);
    const reloaded = createRememberedNames(storage, 'board');
    expect([reloaded.get('peer-bo'), reloaded.get('peer-cy')]).toEqual(['Bo', 'Cy']);
    expect(createRememberedNames(storage, 'other').get('peer-bo')).toBeUndefined();
  });

  it('writes when a name is new or changed, and for the same name at most once a minute', () => {
    const storage = memoryStorage();
    const names = createRememberedNames(storage, 'board');
    // Gossip every half second for just under a minute: one write.
    for (let at = 0; at < heardAgainWriteMs; at += 500) names.remember('peer-bo', 'Bo', at);
    expect(storage.writes).toBe(1);
    names.remember('peer-bo', 'Bo', heardAgainWriteMs);
    expect(storage.writes).toBe(2);
    names.remember('peer-bo', 'Bo Renamed', heardAgainWriteMs + 500);
    expect(storage.writes).toBe(3);
    expect(createRememberedNames(storage, 'board').get('peer-bo')).toBe('Bo Renamed');
  });

  it('forgets the longest unheard first: a member heard again outlives one heard only long ago', () => {
    const storage = memoryStorage();
    const names = createRememberedNames(storage, 'board');
    for (let member = 0; member < maxRememberedNames; member += 1) names.remember(`peer-${member}`, `Name ${member}`, member * 1_000);
    // peer-0, the first heard, is heard again (same name, minutes later); then one member more.
    names.remember('peer-0', 'Name 0', 200_000);
    names.remember('peer-new', 'New', 201_000);
    const reloaded = createRememberedNames(storage, 'board');
    expect([reloaded.get('peer-0'), reloaded.get('peer-1'), reloaded.get('peer-2'), reloaded.get('peer-new')]).toEqual(['Name 0', undefined, 'Name 2', 'New']);
    expect((JSON.parse(storage.items.get(rememberedNamesKey('board')) ?? '[]') as unknown[]).length).toBe(maxRememberedNames);
  });

  it('two tabs of one profile in one room keep each other’s names: a write merges what the other stored', () => {
    const profile = memoryStorage();
    const tabOfAna = createRememberedNames(profile, 'board');
    const tabOfBo = createRememberedNames(profile, 'board');
    tabOfBo.remember('peer-ana', 'Ana', 1_000); // Bo's tab hears Ana's gossip
    tabOfAna.remember('peer-bo', 'Bo', 1_500); // Ana's tab hears Bo's: its own map never held Ana
    tabOfAna.remember('peer-cy', 'Cy', 2_000);
    const reloaded = createRememberedNames(profile, 'board');
    expect([reloaded.get('peer-ana'), reloaded.get('peer-bo'), reloaded.get('peer-cy')]).toEqual(['Ana', 'Bo', 'Cy']);
  });

  it('ignores a blank name or one that is not a string, and caps a long one as the page caps its own', () => {
    const storage = memoryStorage();
    const names = createRememberedNames(storage, 'board');
    names.remember('peer-bo', '   ', 1_000);
    names.remember('peer-bo', undefined as unknown as string, 1_000);
    names.remember('peer-bo', 7 as unknown as string, 1_000);
    expect([names.get('peer-bo'), storage.writes]).toEqual([undefined, 0]);
    names.remember('peer-bo', `  ${'b'.repeat(100)}  `, 1_000);
    expect(names.get('peer-bo')).toBe('b'.repeat(64));
  });

  it('starts empty from stored text that is not its own, keeping only well-formed records', () => {
    const key = rememberedNamesKey('board');
    expect(createRememberedNames(memoryStorage({ [key]: '{not json' }), 'board').get('peer-bo')).toBeUndefined();
    expect(createRememberedNames(memoryStorage({ [key]: '{"peer-bo":"Bo"}' }), 'board').get('peer-bo')).toBeUndefined();
    const stored = [['peer-bo', 'Bo', 5], ['peer-cy', 7, 5], 'x', ['peer-dee', ' ', 5], ['peer-eve', 'Eve'], ['peer-fay', 'Fay', 'late'], ['peer-gus', 'Gus', null]];
    const mixed = createRememberedNames(memoryStorage({ [key]: JSON.stringify(stored) }), 'board');
    expect(['peer-bo', 'peer-cy', 'peer-dee', 'peer-eve', 'peer-fay', 'peer-gus'].map((id) => mixed.get(id))).toEqual(['Bo', undefined, undefined, undefined, undefined, undefined]);
  });

  it('keeps working for the page when the storage refuses to write', () => {
    const storage: NameStorage = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
    };
    const names = createRememberedNames(storage, 'board');
    names.remember('peer-bo', 'Bo', 1_000);
    expect(names.get('peer-bo')).toBe('Bo');
  });
});
