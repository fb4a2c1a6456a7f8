// documentVisibility on a real page: `pagehide` events as Chromium shapes them (a
// PageTransitionEvent whose `persisted` says whether the page is kept for the back/forward cache).
import { describe, expect, it } from 'vitest';
import { documentVisibility } from './visibility.ts';

describe('documentVisibility in a browser', () => {
  it('says gone on a pagehide that is not persisted, not on one that is, and nothing once closed', () => {
    const source = documentVisibility();
    const heard: string[] = [];
    source.gone?.subscribe(() => heard.push('gone'));
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
    expect(heard).toEqual([]);
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    expect(heard).toEqual(['gone']);
    source.close();
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    expect(heard).toEqual(['gone']);
    expect(source.visible.value).toBe(document.visibilityState !== 'hidden');
  });
});
