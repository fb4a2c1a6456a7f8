// A page that goes away for good (pagehide, not kept for the back/forward cache) closes its room's
// connections itself: the browser tears them down without a word, and the room's other pages saw a
// connected member gone silent until their links timed out (an outside audit of the demo,
// 2026-12-04, fixed then in the demo alone; every joinRoom does it since 2026-12-08).
import { afterEach, describe, expect, it } from 'vitest';
import { threeVoterRoom, type RoomTimings } from './room-simulation-peers.test-support.ts';
import { documentVisibility } from './visibility.ts';

const timings: RoomTimings = { unreachableAfterMs: 1_500, discoveryMs: 400, gossipIntervalMs: 300, coordinatorIntervalMs: 100, targetVoters: 3 };

describe('a room page that goes away', () => {
  it('closes its connections at once, so its peers see it leave and the room removes it', async () => {
    const { clock, registry, leader, close } = await threeVoterRoom(6203, timings);
    const going = registry.all().find((peer) => peer !== leader())!;
    const staying = registry.all().filter((peer) => peer !== going);
    const reachedBy = (peer: typeof going): ReadonlySet<string> => peer.transports.get(peer.id)!.peers.value;
    expect(staying.map((peer) => reachedBy(peer).has(going.id))).toEqual([true, true]);

    // The browser announces pagehide; nothing else happens to the page (no leave, no close).
    going.visibility.goAway();
    await clock.advance(10);
    expect(staying.map((peer) => reachedBy(peer).has(going.id))).toEqual([false, false]);
    // The policy sees it unreachable, and removes it after its wait.
    await clock.advance(timings.unreachableAfterMs + 5 * timings.coordinatorIntervalMs);
    const config = leader()!.room!.node.membership.value;
    expect([...config.voters, ...(config.learners ?? [])]).not.toContain(going.id);
    await close();
  });
});

describe('documentVisibility on a page', () => {
  const scope = globalThis as Record<string, unknown>;
  const saved = { document: scope['document'], addEventListener: scope['addEventListener'], removeEventListener: scope['removeEventListener'] };
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete scope[key];
      else scope[key] = value;
    }
  });

  /** A document and a window that the test drives: its pagehide listeners, by hand. */
  function fakePage() {
    const pageHide = new Set<(event: { persisted?: boolean }) => void>();
    scope['document'] = { visibilityState: 'visible', addEventListener: () => {}, removeEventListener: () => {} };
    scope['addEventListener'] = (type: string, listener: (event: { persisted?: boolean }) => void) => {
      if (type === 'pagehide') pageHide.add(listener);
    };
    scope['removeEventListener'] = (type: string, listener: (event: { persisted?: boolean }) => void) => {
      if (type === 'pagehide') pageHide.delete(listener);
    };
    return { pageHide: (persisted: boolean) => [...pageHide].forEach((listener) => listener({ persisted })), listeners: () => pageHide.size };
  }

  it('says gone on pagehide, but not for a page kept in the back/forward cache, and stops listening when closed', () => {
    const page = fakePage();
    const source = documentVisibility();
    const heard: string[] = [];
    source.gone?.subscribe(() => heard.push('gone'));
    page.pageHide(true);
    expect(heard).toEqual([]);
    page.pageHide(false);
    expect(heard).toEqual(['gone']);
    source.close();
    expect(page.listeners()).toBe(0);
  });

  it('is never gone where there is no document (a worker, Node)', () => {
    delete scope['document'];
    expect(documentVisibility().gone).toBeUndefined();
  });
});
