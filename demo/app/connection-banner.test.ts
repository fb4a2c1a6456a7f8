import { describe, expect, it } from 'vitest';
import { bannerNotes, bannerOf, bannerText, cutOffText, shortId, unreachableText, type Banner, type UnreachableReport } from './connection-banner.ts';

const [bo, cy, dee, ed] = ['peer-8b50e1f2a3', 'peer-d622a9c0b1', 'peer-0a1b2c3d4e', 'peer-ffee001122'];
const names: Record<string, string> = { [bo]: 'Bo', [cy]: 'Cy' };
/** As the model's nameOf: a name once gossip gave one, a short id until then. */
const nameOf = (id: string): string => names[id] ?? id.slice(0, 10);
const report = (peers: string[], waiting = false, count = peers.length): UnreachableReport => ({ count, peers, waiting });
const nobody = new Set<string>();

describe('the connection banner', () => {
  it('on a page its user cut off, says so instead of blaming the network for the peers the room reports', () => {
    // The room reports every other peer: the switch reports nobody reachable.
    const banner = bannerOf({ report: report([bo, cy]), startingAnyway: false, connected: false, reachable: nobody });
    expect(banner).toEqual({ type: 'cut off' });
    expect(bannerText(banner, nameOf)).toBe('This page is disconnected: you pressed "Disconnect this peer", so it sends and receives nothing until you press "Reconnect this peer".');
    expect(bannerText(banner, nameOf)).toBe(cutOffText);
    // Said at once, before the room's report comes (it waits a grace period).
    expect(bannerOf({ report: report([]), startingAnyway: false, connected: false, reachable: nobody })).toEqual({ type: 'cut off' });
  });

  it('once reconnected, leaves out the peers the last report names that are reachable again', () => {
    // The room's report from while the page was cut off, read before its next check.
    const stale = report([bo, cy, dee]);
    expect(bannerOf({ report: stale, startingAnyway: false, connected: true, reachable: new Set([bo, cy, ed]) })).toEqual({ type: 'unreachable', report: report([dee]), startingAnyway: false });
    expect(bannerOf({ report: report([bo, cy]), startingAnyway: false, connected: true, reachable: new Set([bo, cy]) })).toEqual({ type: 'none' });
    // Peers beyond those named still count.
    expect(bannerOf({ report: report([bo, cy], false, 40), startingAnyway: false, connected: true, reachable: new Set([bo]) })).toEqual({ type: 'unreachable', report: report([cy], false, 39), startingAnyway: false });
  });

  it('names unreachable peers by the names this page heard, short ids otherwise', () => {
    const banner = bannerOf({ report: report([bo, dee]), startingAnyway: false, connected: true, reachable: nobody });
    expect(bannerText(banner, nameOf)).toBe("Can't connect to 2 peers in this room (Bo, peer-0a1b2) — they are in the room (signaling lists them) but no direct connection forms, so they do not see these changes.");
    expect(unreachableText(report([bo, cy, dee, ed]), false, nameOf)).toBe("Can't connect to 4 peers in this room (Bo, Cy, peer-0a1b2, …) — they are in the room (signaling lists them) but no direct connection forms, so they do not see these changes.");
    expect(unreachableText(report([bo], false, 40), false, nameOf)).toBe("Can't connect to 40 peers in this room (Bo, …) — they are in the room (signaling lists them) but no direct connection forms, so they do not see these changes.");
    expect(unreachableText(report([], false, 40), false, nameOf)).toBe("Can't connect to 40 peers in this room — they are in the room (signaling lists them) but no direct connection forms, so they do not see these changes.");
  });

  it('says the room secret differs when connections failed its check, on the page with the wrong secret and on the others', () => {
    const banner = bannerOf({ report: report([bo], true), startingAnyway: false, connected: true, reachable: nobody, secretCheckFailures: 2 });
    expect(banner).toEqual({ type: 'unreachable', report: report([bo], true), startingAnyway: false, secretMismatch: true });
    expect(bannerText(banner, nameOf)).toBe("Can't connect to 1 peer in this room (Bo) — waiting for them before starting, so the room does not split into separate boards. Connections failed the room-secret check: this page and those peers were given different secrets (?secret= in the URL).");
    // No failed check: the network is all the page can blame, as before.
    expect(bannerOf({ report: report([bo], true), startingAnyway: false, connected: true, reachable: nobody, secretCheckFailures: 0 })).toEqual({ type: 'unreachable', report: report([bo], true), startingAnyway: false });
  });

  it('while waiting, says it waits, or that it starts without them as the user chose', () => {
    expect(unreachableText(report([bo], true), false)).toBe("Can't connect to 1 peer in this room (peer-8b50e) — waiting for them before starting, so the room does not split into separate boards.");
    expect(unreachableText(report([bo], true), true)).toBe("Can't connect to 1 peer in this room (peer-8b50e) — starting without them, as you chose…");
    // Promised to join a reachable page whose user chose: named, whatever this page's own choice.
    for (const chose of [false, true]) expect(unreachableText({ ...report([bo], true), deferringTo: cy }, chose, nameOf)).toBe("Can't connect to 1 peer in this room (Bo) — Cy chose to start a board without them; this page will join it…");
    const banner = (waiting: boolean): Banner => bannerOf({ report: { ...report([bo], waiting), deferringTo: cy }, startingAnyway: false, connected: true, reachable: nobody });
    expect(banner(true)).toMatchObject({ report: { deferringTo: cy } });
    expect(banner(false)).not.toHaveProperty('report.deferringTo');
    expect(bannerText({ type: 'none' })).toBeNull();
  });
});

describe('the timeline’s notes of the banner', () => {
  const noting = () => {
    const notes: string[] = [];
    const notesOf = bannerNotes((wording) => void notes.push(wording(nameOf)));
    const show = (inputs: { report?: UnreachableReport; connected?: boolean; reachable?: ReadonlySet<string> }): void =>
      notesOf(bannerOf({ report: inputs.report ?? report([]), startingAnyway: false, connected: inputs.connected ?? true, reachable: inputs.reachable ?? nobody }));
    return { notes, show, notesOf };
  };

  it('notes nothing about unreachable peers while the page is cut off, nor after it reconnects to all of them', () => {
    const { notes, show } = noting();
    show({ connected: false });
    show({ connected: false, report: report([bo, cy]) });
    // Reconnected: the switch and the reachable peers change together, the room's report a moment later.
    show({ connected: true, report: report([bo, cy]), reachable: new Set([bo, cy]) });
    show({ connected: true, report: report([]), reachable: new Set([bo, cy]) });
    expect(notes).toEqual([]);
  });

  it('notes a genuinely unreachable peer once, by name when drawn, and again only when that changes', () => {
    const { notes, show, notesOf } = noting();
    show({ report: report([dee]), reachable: new Set([bo]) });
    show({ report: report([dee]), reachable: new Set([bo, cy]) });
    // Cut off and back: the room reported everyone meanwhile, Dee is still out of reach.
    show({ connected: false, report: report([bo, cy, dee]) });
    show({ report: report([bo, cy, dee]), reachable: new Set([bo, cy]) });
    show({ report: report([dee]), reachable: new Set([bo, cy]) });
    expect(notes).toEqual(["Can't connect to 1 peer in this room (peer-0a1b2) — they are in the room (signaling lists them) but no direct connection forms, so they do not see these changes."]);
    show({ report: report([]), reachable: new Set([bo, cy, dee]) });
    expect(notes.at(-1)).toBe('every peer in the room is reachable again');
    const unreachableBo: Banner = { type: 'unreachable', report: report([bo]), startingAnyway: false };
    notesOf(unreachableBo);
    notesOf(unreachableBo);
    expect(notes).toHaveLength(3);
    expect(notes.at(-1)).toMatch(/^Can't connect to 1 peer in this room \(Bo\)/);
  });
});

describe('shortId', () => {
  it('keeps 5 hex digits of an id, after the k of a claimed one, so claimed and older ids stay as distinct', () => {
    expect(shortId('peer-0123456789abcdef')).toBe('peer-01234');
    expect(shortId('peer-ka3a5127a7ab8b2ea3c30f215b712306d')).toBe('peer-ka3a51');
    expect(shortId('alice')).toBe('alice');
  });
});
