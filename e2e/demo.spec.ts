// The demo app end to end: separate Chromium processes join one room over real WebRTC through
// the signaling server, with engines in workers and IndexedDB storage (issue 11). The peers load
// the static build users deploy (playwright.config.ts builds and serves it): a page of it loads
// in about half the time a page from the dev server took (every module a request of its own),
// and these tests open 30 of them. The same-origin tabs here, edge-peer.spec.ts and
// firefox-interop.spec.ts load /demo/index.html of the test pages' build (e2e/vite.config.ts).
import { expect, test } from '@playwright/test';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSignalingServer, type SignalingServer } from '../src/signaling/server/index.ts';
import { staticPort } from '../playwright.config.ts';
import { damageIndexedDbLog } from './damaged-indexeddb.ts';
import { closeShells, counterOf, demoUrl, increment, launchPeerShells, launchPersistentShell, openPeerIn, openPersistentPeer, openPersistentPeerIn, view, waitForBoards, waitForCluster, type DemoPeer, type PeerOptions } from './demo-fixtures.ts';
import type { BoardLayoutPage } from './pages/board-layout.ts';
import type { FocusRedrawPage } from './pages/focus-redraw.ts';

let signaling: SignalingServer;
const opened: DemoPeer[] = [];
let roomCount = 0;

test.beforeAll(async () => {
  signaling = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
test.afterAll(async () => {
  await signaling.close();
});
test.afterEach(async ({}, testInfo) => {
  // A failed or timed-out test says what every page it left open was doing: role, leader, the
  // end of its timeline and its errors (a flaky test is a bug, and this is what finds the race).
  if (testInfo.status !== testInfo.expectedStatus) {
    const lines: string[] = [];
    for (const peer of opened) {
      const state = peer.page.evaluate(() => ({ view: { id: window.raftmeshDemo.nodeId(), role: window.raftmeshDemo.role(), leader: window.raftmeshDemo.leader(), commitIndex: window.raftmeshDemo.commitIndex() }, timeline: window.raftmeshDemo.timeline().slice(-15), errors: window.raftmeshDemo.errors().slice(-10) }));
      const bounded = await Promise.race([state.catch((error: unknown) => `unreadable: ${String(error)}`), new Promise((resolve) => setTimeout(() => resolve('no answer within 5 s'), 5_000))]);
      lines.push(`${peer.name}: ${JSON.stringify(bounded)}`);
    }
    // Printed with the failure by the list reporter (CI's log keeps it).
    await testInfo.attach('pages at the failure', { body: lines.join('\n'), contentType: 'text/plain' });
  }
  await Promise.all(opened.splice(0).map((peer) => peer.close().catch(() => undefined)));
});

const freshRoom = (label: string): string => `${label}-${Date.now()}-${(roomCount += 1)}`;

/** The static build of the demo (see the top of this file). */
const appURL = `http://127.0.0.1:${staticPort}`;
const appPage = (room: string, name: string, extra: Partial<PeerOptions> = {}): PeerOptions => ({ room, signal: signaling.url, name, path: '/index.html', ...extra });

/**
 * For the tests whose subject is that the room removes or replaces an unreachable member, not how
 * long it waits first: the policy's default wait is 10 s, and a leader that takes over starts it
 * again, so these tests spent 10 to 20 s of their 30 s on it (the CI run of 2026-12-07). 3 s is
 * still longer than a page takes to connect or reconnect here, and the other tests keep the
 * default: in those a member must not be replaced (a page cut off by its disconnect button
 * catches up under its own id).
 */
const quickRemoval: Partial<PeerOptions> = { unreachableAfterMs: 3_000 };

/** Peers in Chromium processes of their own, launched side by side, joining in the order named. */
async function peers(room: string, names: readonly string[], extra: Partial<PeerOptions> = {}): Promise<DemoPeer[]> {
  const shells = await launchPeerShells(names.length);
  const result: DemoPeer[] = [];
  try {
    for (const [position, name] of names.entries()) {
      const peer = await openPeerIn(shells[position]!, appURL, appPage(room, name, extra));
      opened.push(peer);
      result.push(peer);
    }
  } finally {
    await closeShells(shells.slice(result.length));
  }
  return result;
}

test('three Chromium processes form one cluster, elect a leader and converge to the same board', async ({}, testInfo) => {
  const group = await peers(freshRoom('three'), ['Ana', 'Bo', 'Cy']);
  await waitForCluster(group, 3);
  await Promise.all(group.flatMap((peer) => [increment(peer), increment(peer), peer.page.evaluate((name) => window.raftmeshDemo.dispatch({ type: 'say', author: name, text: `hello from ${name}` }), peer.name)]));
  await group[0]!.page.evaluate(() => window.raftmeshDemo.dispatch({ type: 'addTask', id: 'report', title: 'Write the report' }));
  await waitForBoards(group, 'six increments, three messages, one task', (board) => board.counter === 6 && board.chat.length === 3 && board.tasks.length === 1);
  // Every page's cluster panel names all three members, by their names, as voters in sync: the
  // leader's from its match indexes, the followers' from the status gossip.
  for (const peer of group) {
    await expect
      .poll(() => peer.page.evaluate(() => window.raftmeshDemo.cluster().map((row) => `${row.name} ${row.membership} ${row.lag === 0 ? 'in sync' : String(row.lag)}`).sort()), { timeout: 20_000 })
      .toEqual(['Ana voter in sync', 'Bo voter in sync', 'Cy voter in sync']);
  }
  // Elections and membership changes speak in names: no raw ids or JSON once the gossip has named everyone.
  const timeline = (await group[0]!.page.evaluate(() => window.raftmeshDemo.timeline()))
    .filter((entry) => entry.kind === 'election' || entry.kind === 'membership')
    .map((entry) => entry.text)
    .join('\n');
  expect(timeline).not.toMatch(/peer-k?[0-9a-f]{5}|[{}]/);
  expect(timeline).toMatch(/(Bo|Cy) joins as a learner/);
  for (const [position, peer] of group.entries()) {
    await peer.page.screenshot({ path: testInfo.outputPath(`board-${position}.png`) });
  }
  if (process.env.RAFTMESH_UPDATE_SCREENSHOT === '1') {
    mkdirSync('docs', { recursive: true });
    copyFileSync(testInfo.outputPath('board-0.png'), 'docs/demo-board.png');
  }
});

test('five Chromium processes form one cluster and converge', async () => {
  const group = await peers(freshRoom('five'), ['Ana', 'Bo', 'Cy', 'Di', 'Ed']);
  await waitForCluster(group, 5, 90_000);
  await Promise.all(group.map((peer) => increment(peer)));
  await waitForBoards(group, 'five increments', (board) => board.counter === 5);
});

test('closing the leader’s page: a new leader is elected, the rest keep committing, nothing acknowledged is lost', async () => {
  const group = await peers(freshRoom('failover'), ['Ana', 'Bo', 'Cy']);
  const leaderId = await waitForCluster(group, 3);
  const acknowledged = (await Promise.all(group.flatMap((peer) => [increment(peer), increment(peer), increment(peer)]))).filter(Boolean).length;
  expect(acknowledged).toBe(9);
  const ids = await Promise.all(group.map(async (peer) => (await view(peer)).id));
  const leaderPeer = group[ids.indexOf(leaderId)]!;
  const survivors = group.filter((peer) => peer !== leaderPeer);
  await leaderPeer.close();
  opened.splice(opened.indexOf(leaderPeer), 1);
  await expect.poll(async () => (await Promise.all(survivors.map(view))).map((one) => one.leader).filter((leader) => leader !== null && leader !== leaderId).length, { timeout: 30_000 }).toBe(2);
  expect((await Promise.all(survivors.map((peer) => increment(peer)))).every(Boolean)).toBe(true);
  await waitForBoards(survivors, 'nine acknowledged increments and two more', (board) => board.counter === 11);
});

/**
 * Ana and Bo in processes of their own, then Cy on `profile`. The three browsers start side by
 * side (Cy's had started only once Ana and Bo had joined: 3 to 8 s more per test here,
 * 2026-12-07); the pages still load and join one after another, Cy last.
 */
async function twoPagesThenCyOnAProfile(room: string, profile: string, extra: Partial<PeerOptions> = {}): Promise<{ others: DemoPeer[]; persistent: DemoPeer }> {
  const cyLaunch = launchPersistentShell(profile);
  let others: DemoPeer[];
  try {
    others = await peers(room, ['Ana', 'Bo'], extra);
  } catch (error) {
    await cyLaunch.then((shell) => shell.context.close(), () => undefined);
    throw error;
  }
  const persistent = await openPersistentPeerIn(await cyLaunch, appURL, appPage(room, 'Cy', extra));
  opened.push(persistent);
  return { others, persistent };
}

/** Ana and Bo, and Cy on a persistent profile, in one cluster; each page adds 1 to the counter. */
async function threeIncrementsWithPersistentCy(room: string, profile: string): Promise<{ others: DemoPeer[]; persistent: DemoPeer; group: DemoPeer[]; increments: boolean[] }> {
  const { others, persistent } = await twoPagesThenCyOnAProfile(room, profile);
  const group = [...others, persistent];
  await waitForCluster(group, 3);
  const increments = await Promise.all(group.map((peer) => increment(peer)));
  await waitForBoards(group, 'three increments', (board) => board.counter === 3);
  return { others, persistent, group, increments };
}

test('a reloaded page and a browser restarted on the same profile come back with their state and rejoin', async () => {
  const room = freshRoom('reload');
  const profile = mkdtempSync(join(tmpdir(), 'raftmesh-demo-profile-'));
  try {
    const { others, persistent, group } = await threeIncrementsWithPersistentCy(room, profile);
    const idBefore = (await view(persistent)).id;

    await persistent.page.reload();
    await persistent.page.evaluate(() => window.raftmeshDemo.ready);
    expect((await view(persistent)).id).toBe(idBefore);
    await expect.poll(() => counterOf(persistent), { timeout: 20_000 }).toBe(3); // from IndexedDB, then the cluster
    await increment(others[0]!);
    await waitForBoards(group, 'four increments after the reload', (board) => board.counter === 4);

    await persistent.close();
    opened.splice(opened.indexOf(persistent), 1);
    await increment(others[1]!); // committed while the browser is closed: caught up on restart
    const restarted = await openPersistentPeer(appURL, profile, appPage(room, 'Cy'));
    opened.push(restarted);
    expect((await view(restarted)).id).toBe(idBefore);
    await waitForBoards([...others, restarted], 'five increments after the restart', (board) => board.counter === 5);
  } finally {
    for (const peer of opened.splice(0)) await peer.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
});

test('a page reloaded after the rest of its room has gone shows the board it had, from its own storage, with no leader in reach, and names the others', async () => {
  const room = freshRoom('alone');
  const profile = mkdtempSync(join(tmpdir(), 'raftmesh-demo-profile-'));
  // The highest commit index stored in the page's raftmesh databases (read beside the worker's
  // connection: IndexedDB allows several).
  const storedCommit = (peer: DemoPeer): Promise<number> =>
    peer.page.evaluate(async () => {
      let highest = 0;
      for (const { name } of await indexedDB.databases()) {
        if (name === undefined || !name.startsWith('raftmesh:')) continue;
        const database = await new Promise<IDBDatabase>((resolve, reject) => {
          const request = indexedDB.open(name);
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error ?? new Error(`cannot open ${name}`));
        });
        if (database.objectStoreNames.contains('state')) {
          const value = await new Promise<unknown>((resolve, reject) => {
            const request = database.transaction('state', 'readonly').objectStore('state').get('commitIndex');
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error ?? new Error('cannot read the commit index'));
          });
          if (typeof value === 'number') highest = Math.max(highest, value);
        }
        database.close();
      }
      return highest;
    });
  try {
    const { others, persistent, increments } = await threeIncrementsWithPersistentCy(room, profile);
    expect(increments).toEqual([true, true, true]);
    // Stored with the page's next write, or alone a heartbeat interval after it learned the commit.
    const applied = (await view(persistent)).commitIndex;
    await expect.poll(() => storedCommit(persistent), { timeout: 10_000 }).toBeGreaterThanOrEqual(applied);
    for (const peer of others) {
      await peer.close();
      opened.splice(opened.indexOf(peer), 1);
    }
    await persistent.page.reload();
    await persistent.page.evaluate(() => window.raftmeshDemo.ready);
    await expect.poll(() => counterOf(persistent), { timeout: 10_000 }).toBe(3);
    const alone = await view(persistent);
    expect({ leader: alone.leader, leading: alone.role === 'leader' }).toEqual({ leader: null, leading: false });
    // The members it cannot reach are named as their gossip named them before the reload.
    const rows = await persistent.page.evaluate(() => window.raftmeshDemo.cluster().map((row) => `${row.name || row.id}: ${row.connection}`));
    expect(rows.sort()).toEqual(['Ana: unreachable', 'Bo: unreachable', 'Cy: this page']);
  } finally {
    for (const peer of opened.splice(0)) await peer.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
});

/** The database names this page's origin holds. */
const databases = (peer: DemoPeer): Promise<string[]> => peer.page.evaluate(async () => (await indexedDB.databases()).map((database) => database.name ?? ''));

/** Ana and Bo in processes of their own, Cy on `profile` (to come back to), in one cluster of three; every page with `quickRemoval`. */
async function twoPagesAndOneOnAProfile(room: string, profile: string): Promise<{ others: DemoPeer[]; persistent: DemoPeer }> {
  const { others, persistent } = await twoPagesThenCyOnAProfile(room, profile, quickRemoval);
  await waitForCluster([...others, persistent], 3);
  return { others, persistent };
}

test('a page that comes back after being removed rejoins under a fresh id and deletes the database of the id it gave up', async () => {
  const room = freshRoom('removed');
  const profile = mkdtempSync(join(tmpdir(), 'raftmesh-demo-profile-'));
  try {
    const { others, persistent } = await twoPagesAndOneOnAProfile(room, profile);
    await Promise.all([...others, persistent].map((peer) => increment(peer)));
    await waitForBoards([...others, persistent], 'three increments', (board) => board.counter === 3);
    const oldId = (await view(persistent)).id!;
    const oldDatabase = `raftmesh:demo:${room}:${oldId}`;
    expect(await databases(persistent)).toContain(oldDatabase);
    // The page that goes away leads: the others then elect a leader in a newer term, which is what
    // tells a returning voter it was removed while away (a removal in the same term lets it keep
    // its id and come back as a learner).
    for (const peer of others) {
      if ((await view(peer)).role === 'leader') expect((await peer.page.evaluate((target) => window.raftmeshDemo.transferLeadership(target), oldId)).ok).toBe(true);
    }
    await expect.poll(async () => (await view(persistent)).role, { timeout: 20_000 }).toBe('leader');

    await persistent.close();
    opened.splice(opened.indexOf(persistent), 1);
    // The room's policy removes a voter unreachable for 3 s here (`quickRemoval`; 10 s by default).
    await expect
      .poll(async () => (await others[0]!.page.evaluate(() => window.raftmeshDemo.cluster())).some((row) => row.id === oldId && row.membership !== 'not a member'), { timeout: 45_000, intervals: [500, 1000] })
      .toBe(false);

    const restarted = await openPersistentPeer(appURL, profile, appPage(room, 'Cy', quickRemoval));
    opened.push(restarted);
    const newId = (await view(restarted)).id!;
    expect(newId).not.toBe(oldId);
    // Deleted once the fresh id is saved and nothing holds the old database open (not awaited by the join).
    await expect.poll(() => databases(restarted), { timeout: 20_000 }).not.toContain(oldDatabase);
    expect(await databases(restarted)).toContain(`raftmesh:demo:${room}:${newId}`);
    await increment(others[1]!);
    await waitForBoards([...others, restarted], 'four increments, the returning page included', (board) => board.counter === 4, 45_000);
  } finally {
    for (const peer of opened.splice(0)) await peer.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
});

/**
 * Cy's page on a profile, forty increments, then Cy's page closed and its profile's IndexedDB
 * LevelDB log torn, so that Chromium deletes the site's databases on the next start; `prepare`
 * runs on Cy's page once the cluster stands, before the increments (which the log must hold). Cy must come back under a fresh id, say why (a
 * storageLost event), and the room must replace the lost id and take the fresh one's increments.
 */
async function loseTheDatabasesOfAPage(label: string, prepare: (page: DemoPeer['page']) => Promise<void>): Promise<void> {
  const room = freshRoom(label);
  const profile = mkdtempSync(join(tmpdir(), 'raftmesh-demo-profile-'));
  try {
    const { others, persistent } = await twoPagesAndOneOnAProfile(room, profile);
    await prepare(persistent.page);
    // Enough writes on the page that goes away for its LevelDB log to hold them (damageIndexedDbLog wants > 4 KiB).
    for (let count = 0; count < 40; count += 1) expect(await increment(persistent)).toBe(true);
    await waitForBoards([...others, persistent], 'forty increments', (board) => board.counter === 40);
    const oldId = (await view(persistent)).id!;
    await persistent.close();
    opened.splice(opened.indexOf(persistent), 1);
    damageIndexedDbLog(profile, appURL);

    const restarted = await openPersistentPeer(appURL, profile, appPage(room, 'Cy', quickRemoval));
    opened.push(restarted);
    const newId = (await view(restarted)).id!;
    // Before rooms took a lost storage for a lost id, the join failed here with the storage's refusal.
    expect(newId).not.toBe(oldId);
    const timeline = (await restarted.page.evaluate(() => window.raftmeshDemo.timeline())).map((entry) => JSON.stringify(entry));
    expect(timeline.some((line) => line.includes('deleted this tab\'s database') && line.includes(oldId.slice(0, 10)) && line.includes('fresh id')), timeline.join('\n')).toBe(true);
    // The empty database left under the old id is deleted (in the worker, not awaited by the join).
    await expect.poll(() => databases(restarted), { timeout: 20_000 }).not.toContain(`raftmesh:demo:${room}:${oldId}`);
    // The room replaces the lost id with the fresh one (the old is unreachable for the policy's 3 s, `quickRemoval`).
    await expect
      .poll(async () => {
        const rows = await others[0]!.page.evaluate(() => window.raftmeshDemo.cluster());
        return rows.filter((row) => row.membership === 'voter').map((row) => row.id).sort().join(' ');
      }, { timeout: 60_000, intervals: [500, 1000] })
      .toBe([...(await Promise.all(others.map(async (peer) => (await view(peer)).id!))), newId].sort().join(' '));
    expect(await increment(restarted)).toBe(true);
    await waitForBoards([...others, restarted], 'the forty increments and one from the fresh id', (board) => board.counter === 41, 45_000);
  } finally {
    for (const peer of opened.splice(0)) await peer.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

test('a page whose database Chromium deleted as corrupt says so, rejoins under a fresh id with the room\'s board, and the room replaces the lost id', async () => {
  await loseTheDatabasesOfAPage('lost', async () => undefined);
});

test('the same when the page\'s identity was saved by an earlier version (in localStorage): the lost id is not taken back from there', async () => {
  // As before 2026-12-06: the id, its claim and bootstrap in localStorage only. Chromium's first
  // open after the loss, the identity database's, hears of it (dataLoss) and leaves the mark that
  // keeps these values from being moved over as if nothing were lost.
  await loseTheDatabasesOfAPage('lost-earlier', async (page) => {
    await page.evaluate(async () => {
      const copyPrefix = 'raftmesh:identity-copy:';
      for (const key of Object.keys(localStorage).filter((each) => each.startsWith(copyPrefix))) {
        localStorage.setItem(key.slice(copyPrefix.length), localStorage.getItem(key)!);
        localStorage.removeItem(key);
      }
      await new Promise<void>((resolve, reject) => {
        const deleting = indexedDB.deleteDatabase('raftmesh-identity');
        deleting.onsuccess = () => resolve();
        deleting.onerror = () => reject(deleting.error ?? new Error('the delete failed'));
      });
    });
  });
});

test('a page of an older release stops at a newer release’s command and asks for a reload, its node still a member; reloaded as the newer release it has every command', async () => {
  const room = freshRoom('versions');
  const older = await peers(room, ['Ana', 'Bo']);
  await waitForCluster(older, 1); // the room keeps an odd number of voters: Bo is a learner until Cy comes
  expect(await increment(older[0]!)).toBe(true);
  const [newer] = await peers(room, ['Cy'], { boardVersion: 2 });
  const group = [...older, newer!];
  await waitForCluster(group, 3);
  await waitForBoards(group, 'the first release’s increment everywhere: version 2 folds version 1', (board) => board.counter === 1);
  for (const peer of group) await expect(peer.page.getByTestId('outdated')).toBeHidden();

  expect(await increment(newer!)).toBe(true); // stamped version 2
  for (const peer of older) {
    await expect(peer.page.getByTestId('outdated')).toBeVisible();
    await expect(peer.page.getByTestId('outdated')).toHaveText(/^A newer version of this board is running in this room: reload this page to get it\./);
    const notes = (await peer.page.evaluate(() => window.raftmeshDemo.timeline())).map((entry) => entry.text);
    expect(notes.filter((text) => /^a newer version of the board \(version 2; this page runs version 1\) wrote entry \d+/.test(text))).toHaveLength(1);
    expect(await counterOf(peer)).toBe(1); // stopped before the newer command, not folded differently
  }
  // The newer page's panel marks both older pages' rows at the entry they stopped at (they still
  // vote and acknowledge, so nothing else on their rows looks wrong), and notes each once; its own
  // row says version 2. The older pages' own rows say it too.
  const ids = await Promise.all(group.map(async (peer) => (await view(peer)).id!));
  const stoppedAt = /wrote entry (\d+)/.exec((await older[0]!.page.evaluate(() => window.raftmeshDemo.timeline())).map((entry) => entry.text).find((text) => text.startsWith('a newer version of the board')) ?? '')?.[1];
  expect(stoppedAt).toBeDefined();
  const panelOf = (peer: DemoPeer) => peer.page.getByTestId('cluster-panel');
  const versionCell = (peer: DemoPeer, id: string) => panelOf(peer).locator(`tr[data-peer="${id}"] td[data-release]`);
  for (const position of [0, 1]) {
    await expect(versionCell(newer!, ids[position]!)).toHaveText(`1 — outdated at entry ${stoppedAt} (needs version 2)`);
    await expect(panelOf(newer!).locator(`tr[data-peer="${ids[position]}"]`)).toHaveClass(/\boutdated\b/);
    await expect(versionCell(older[position]!, ids[position]!)).toHaveText(`1 — outdated at entry ${stoppedAt} (needs version 2)`);
  }
  await expect(versionCell(newer!, ids[2]!)).toHaveText('2');
  await expect(panelOf(newer!).getByTestId('peer-outdated')).toHaveCount(2);
  const olderPageNotes = async (peer: DemoPeer): Promise<string[]> => (await peer.page.evaluate(() => window.raftmeshDemo.timeline())).map((entry) => entry.text).filter((text) => /runs an older version of the board \(version 1\): entry \d+ was written by version 2/.test(text));
  // Whose stop each note names, in any order: once for Ana, once for Bo.
  await expect.poll(async () => (await olderPageNotes(newer!)).map((text) => text.slice(0, text.indexOf(' runs an older version'))).sort()).toEqual(older.map((peer) => peer.name).sort());
  const refused = await older[0]!.page.evaluate(() => window.raftmeshDemo.dispatch({ type: 'increment', amount: 5 }));
  expect(refused.ok).toBe(false);
  expect(refused.ok ? '' : refused.error).toMatch(/folds versions up to 1, but entry \d+ of the room.s log was written by version 2/);

  // The older pages' nodes are members still: the newer page's commands commit with them, and
  // they receive them (their commit index moves) though their boards stay put.
  const before = await older[1]!.page.evaluate(() => window.raftmeshDemo.commitIndex());
  expect(await increment(newer!)).toBe(true);
  await expect.poll(() => older[1]!.page.evaluate(() => window.raftmeshDemo.commitIndex())).toBeGreaterThan(before);
  await waitForCluster(group, 3);

  // Bo reloads as the newer release: the same id, its own log folded from the start, nothing lost.
  const bo = older[1]!;
  const boId = (await view(bo)).id;
  await bo.page.goto(demoUrl(appURL, appPage(room, 'Bo', { boardVersion: 2 })));
  await bo.page.waitForFunction(() => window.raftmeshDemo !== undefined);
  await bo.page.evaluate(() => window.raftmeshDemo.ready);
  expect((await view(bo)).id).toBe(boId);
  await waitForBoards([bo, newer!], 'the reloaded page has every command', (board) => board.counter === 3);
  await expect(bo.page.getByTestId('outdated')).toBeHidden();
  // The newer page no longer marks Bo's row (it runs version 2 now), and still marks Ana's; Bo's
  // panel, of the newer release now, marks Ana's too.
  await expect(versionCell(newer!, boId!)).toHaveText('2');
  await expect(versionCell(newer!, ids[0]!)).toHaveText(`1 — outdated at entry ${stoppedAt} (needs version 2)`);
  await expect(panelOf(newer!).getByTestId('peer-outdated')).toHaveCount(1);
  await expect(versionCell(bo, boId!)).toHaveText('2');
  await expect(versionCell(bo, ids[0]!)).toHaveText(`1 — outdated at entry ${stoppedAt} (needs version 2)`);
  // Ana's stop, heard twice a second all along, is still noted once on the newer page.
  expect((await olderPageNotes(newer!)).filter((text) => text.startsWith(`${older[0]!.name} runs`))).toHaveLength(1);
  expect(await increment(bo)).toBe(true);
  await waitForBoards([bo, newer!], 'and writes again', (board) => board.counter === 4);
});

test('the panel’s disconnect button partitions a page: the majority commits, the minority cannot and says so, then catches up', async () => {
  const group = await peers(freshRoom('partition'), ['Ana', 'Bo', 'Cy']);
  const leaderId = await waitForCluster(group, 3);
  const ids = await Promise.all(group.map(async (peer) => (await view(peer)).id));
  const minority = group.find((_, position) => ids[position] !== leaderId)!;
  const majority = group.filter((peer) => peer !== minority);
  await minority.page.getByTestId('partition').click();
  await expect(minority.page.getByText('This peer is cut off')).toBeVisible();
  const stuck = minority.page.evaluate(() => window.raftmeshDemo.dispatch({ type: 'increment', amount: 10 }));
  expect((await Promise.all(majority.map((peer) => increment(peer)))).every(Boolean)).toBe(true);
  await waitForBoards(majority, 'the majority commits two increments', (board) => board.counter === 2);
  const early = await Promise.race([stuck.then(() => 'resolved'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2_000))]);
  expect(early).toBe('still waiting');
  expect(await counterOf(minority)).toBe(0);
  await minority.page.getByTestId('partition').click();
  expect((await stuck).ok).toBe(true);
  await waitForBoards(group, 'everyone at 12 after the heal', (board) => board.counter === 12);
});

test('a page cut off by its disconnect button reads as silent on the other pages’ panels and timelines, and connected again once it reconnects; its own banner says it was disconnected by its user', async () => {
  const group = await peers(freshRoom('silent'), ['Ana', 'Bo', 'Cy']);
  const leaderId = await waitForCluster(group, 3);
  const ids = await Promise.all(group.map(async (peer) => (await view(peer)).id!));
  // A follower, as in the partition test above: its WebRTC connections stay open while it drops
  // every frame on its own side, so only what the others receive from it can tell.
  const position = ids.findIndex((id) => id !== leaderId);
  const cutOff = group[position]!;
  const cutOffId = ids[position]!;
  const others = group.filter((peer) => peer !== cutOff);
  const connectionOf = (peer: DemoPeer, id: string) => peer.page.getByTestId('cluster-panel').locator(`tr[data-peer="${id}"] td[data-connection]`);
  const timelineOf = (peer: DemoPeer) => peer.page.getByTestId('cluster-panel').locator('ol.timeline li');
  const banner = cutOff.page.getByTestId('unreachable');
  for (const peer of others) await expect(connectionOf(peer, cutOffId)).toHaveText('connected');
  // Names arrive by gossip, apart from the Raft frames that make a peer read as connected: cut off
  // before its name reached a page, it stays a bare id there (seen once, with other specs running beside it).
  for (const peer of others) await expect(peer.page.getByTestId('cluster-panel').locator(`tr[data-peer="${cutOffId}"]`)).toContainText(cutOff.name);

  await cutOff.page.getByTestId('partition').click();
  await expect(cutOff.page.getByText('This peer is cut off')).toBeVisible();
  await expect(banner).toHaveText('This page is disconnected: you pressed "Disconnect this peer", so it sends and receives nothing until you press "Reconnect this peer".');
  for (const peer of others) {
    await expect(connectionOf(peer, cutOffId)).toHaveText(/^silent \d+ s$/);
    await expect(peer.page.getByTestId('cluster-panel').locator(`tr[data-peer="${cutOffId}"]`)).toContainText(cutOff.name);
    await expect(timelineOf(peer).filter({ hasText: `${cutOff.name} went silent: nothing received from it for` })).toHaveCount(1);
  }
  // The pages still talking to each other stay connected on both sides, and the page that cut
  // itself off calls the others unreachable (it reports no reachable peer), never silent.
  for (const peer of others) {
    for (const other of others.filter((one) => one !== peer)) await expect(connectionOf(peer, ids[group.indexOf(other)]!)).toHaveText('connected');
  }
  for (const other of others) await expect(connectionOf(cutOff, ids[group.indexOf(other)]!)).toHaveText('unreachable');
  await expect(connectionOf(cutOff, cutOffId)).toHaveText('this page');
  // Once the room reports the other two unreachable (after its grace period; the banner is redrawn
  // in the same task), it still says what the user did, not that the network failed, and the
  // timeline notes neither.
  await expect.poll(() => cutOff.page.evaluate(() => window.raftmeshDemo.unreachable().count), { timeout: 20_000 }).toBe(2);
  await expect(banner).toHaveAttribute('data-banner', 'cut off');
  await expect(banner).not.toContainText("Can't connect");
  await expect(timelineOf(cutOff).filter({ hasText: /Can't connect|went silent/ })).toHaveCount(0);
  // Noted once, not at every redraw since.
  for (const peer of others) await expect(timelineOf(peer).filter({ hasText: `${cutOff.name} went silent` })).toHaveCount(1);

  await cutOff.page.getByTestId('partition').click();
  await expect(banner).toBeHidden();
  for (const peer of others) {
    await expect(connectionOf(peer, cutOffId)).toHaveText('connected');
    await expect(timelineOf(peer).filter({ hasText: new RegExp(`${cutOff.name} is heard again, after \\d+ s of silence$`) })).toHaveCount(1);
  }
  for (const other of others) await expect(connectionOf(cutOff, ids[group.indexOf(other)]!)).toHaveText('connected');
  // The room's report clears a moment later: the timeline had noted no unreachable peers, so it
  // notes no return either.
  await expect.poll(() => cutOff.page.evaluate(() => window.raftmeshDemo.unreachable().count)).toBe(0);
  await expect(timelineOf(cutOff).filter({ hasText: /Can't connect|went silent|heard again|every peer in the room is reachable again/ })).toHaveCount(0);
});

test('a press held while the page redraws still clicks: the panel is not replaced under a pressed button', async () => {
  // The page redraws the panel by replacing its elements whenever what it shows changes; a redraw
  // between a press and its release used to replace the pressed button, and the browser then
  // fired no click (the partition test above failed now and then on it).
  const [alone] = await peers(freshRoom('press'), ['Ana']);
  const button = alone!.page.getByTestId('partition');
  await expect(button).toHaveText('Disconnect this peer');
  // Typing first, as a person adding a task would: pressing the button takes the focus from the
  // input, and that must not end the press.
  await alone!.page.getByLabel('new task').fill('a task');
  await button.hover();
  await alone!.page.mouse.down();
  // A change during the press, so the page has a redraw to make: since 2026-12-07 it skips one
  // that would show the same thing, and an idle page would not redraw under the press at all.
  expect(await increment(alone!)).toBe(true);
  await alone!.page.waitForTimeout(1_500); // a person's slow press, across the one-second redraw
  await alone!.page.mouse.up();
  await expect(alone!.page.getByTestId('counter-value')).toHaveText('1'); // drawn once the press ended
  await expect(alone!.page.getByText('This peer is cut off')).toBeVisible();
  await expect(button).toHaveText('Reconnect this peer');
  expect((await alone!.page.evaluate(() => window.raftmeshDemo.timeline())).map((entry) => entry.text)).toContain('disconnected this peer (partition)');
});

test('a keyboard user keeps focus across redraws: Tab to "Disconnect this peer", wait out two redraws, Enter disconnects, Space reconnects', async () => {
  // The page replaces the panel's elements every second; focus used to go back to the page at
  // each redraw, so a keyboard user could not press anything that took more than a moment to reach.
  const [alone] = await peers(freshRoom('keyboard'), ['Ana']);
  const page = alone!.page;
  const button = page.getByTestId('partition');
  await expect(button).toHaveText('Disconnect this peer');
  // Each look at the button finds it and reads it in one task of the page: a locator's evaluate
  // can run on the element it found just before a redraw replaced it, which is never focused
  // (this test failed 2 of 12 runs on exactly that, never on the page's behaviour).
  const isFocused = (): Promise<boolean> => page.evaluate(() => document.querySelector('[data-testid="partition"]') === document.activeElement);
  for (let presses = 0; presses < 30 && !(await isFocused()); presses += 1) await page.keyboard.press('Tab');
  await expect(button).toBeFocused();
  // Marked so the test can tell the button it sees after the wait is a new one (a redraw ran).
  const marked = await page.evaluate(() => {
    const element = document.activeElement;
    element?.setAttribute('data-before-redraw', '');
    return element?.getAttribute('data-testid') ?? null;
  });
  expect(marked).toBe('partition');
  // Two changes, each drawn (since 2026-12-07 the page skips a redraw that would show the same
  // thing, so a wait alone no longer redraws an idle page): two increments, each committed and
  // drawn, then the one-second redraw.
  expect(await increment(alone!)).toBe(true);
  expect(await increment(alone!)).toBe(true);
  await page.waitForTimeout(1_500);
  await expect(page.locator('[data-before-redraw]')).toHaveCount(0);
  // Focused, and with its focus ring: a keyboard user sees where Enter will go.
  const focus = (): Promise<{ focused: boolean; ring: boolean }> =>
    page.evaluate(() => {
      const element = document.querySelector('[data-testid="partition"]');
      return { focused: element !== null && element === document.activeElement, ring: element?.matches(':focus-visible') ?? false };
    });
  expect(await focus()).toEqual({ focused: true, ring: true });
  await page.keyboard.press('Enter');
  await expect(page.getByText('This peer is cut off')).toBeVisible();
  await expect(button).toHaveText('Reconnect this peer');
  // One toggle, one focus key: still focused, now to reconnect.
  await expect(button).toBeFocused();
  await page.keyboard.press('Space');
  await expect(button).toHaveText('Disconnect this peer');
  await expect(page.getByText('This peer is cut off')).toBeHidden();
  expect((await page.evaluate(() => window.raftmeshDemo.timeline())).map((entry) => entry.text)).toEqual(expect.arrayContaining(['disconnected this peer (partition)', 'reconnected this peer']));
});

test('replaceContent keeps focus on the control with the same focus key among rows, the caret in an input, no focus ring after a click, and focuses nothing when the control is gone', async ({ page }) => {
  // dom.ts in a page of its own (e2e/pages/focus-redraw.ts), redrawn by the test: the demo's
  // vitest tests run in Node, with no DOM to test it in.
  await page.goto('/e2e/pages/focus-redraw.html');
  const draw = (taskIds: string[]): Promise<void> => page.evaluate((ids) => window.focusRedraw.draw(ids), taskIds);
  const focused = (): Promise<ReturnType<FocusRedrawPage['focused']>> => page.evaluate(() => window.focusRedraw.focused());
  await draw(['a', 'b', 'c']);
  for (let presses = 0; presses < 4; presses += 1) await page.keyboard.press('Tab'); // the input, +1, remove a, remove b
  expect(await focused()).toEqual({ key: 'task:b:remove', visible: true });
  // New elements in a new order: focus follows task b's button, not the position it had.
  await draw(['c', 'b', 'a']);
  expect(await focused()).toEqual({ key: 'task:b:remove', visible: true });
  await page.keyboard.press('Enter');
  expect(await page.evaluate(() => window.focusRedraw.pressed())).toEqual(['task:b:remove']);
  // Task b deleted: nothing is focused, so Enter does nothing (rather than remove another task).
  await draw(['c', 'a']);
  expect(await focused()).toEqual({ key: 'body', visible: false });
  await page.keyboard.press('Enter');
  expect(await page.evaluate(() => window.focusRedraw.pressed())).toEqual(['task:b:remove']);

  // Typing in the middle of the input's text: the text and the caret survive the redraw.
  const input = page.getByLabel('new task');
  await input.click();
  await page.keyboard.type('hello world');
  for (let presses = 0; presses < 6; presses += 1) await page.keyboard.press('ArrowLeft');
  await draw(['c', 'a']);
  await expect(input).toBeFocused();
  await page.keyboard.type('X');
  await expect(input).toHaveValue('helloX world');

  // A mouse click focuses the button without a ring; the redraw keeps the focus and adds no ring.
  await page.getByRole('button', { name: '+1' }).click();
  expect(await focused()).toEqual({ key: 'counter:+1', visible: false });
  await draw(['c', 'a']);
  expect(await focused()).toEqual({ key: 'counter:+1', visible: false });
});

test('replaceContent keeps each list where its reader scrolled it, and a chat read to its end follows new lines', async ({ page }) => {
  // The chat and the timeline used to snap back to their top at every redraw (several a second),
  // so neither could be scrolled (an outside audit).
  await page.goto('/e2e/pages/focus-redraw.html');
  const draw = (lines: number): Promise<void> => page.evaluate((count) => window.focusRedraw.draw([], count), lines);
  const scrolls = (): Promise<ReturnType<FocusRedrawPage['scrolls']>> => page.evaluate(() => window.focusRedraw.scrolls());
  await draw(50);
  let now = await scrolls();
  expect(now.chat.top).toBe(now.chat.end); // a new chat opens at its newest line
  expect(now.timeline.top).toBe(0); // the timeline (newest first) at its top
  await page.evaluate(() => {
    window.focusRedraw.scrollTo('chat', 120);
    window.focusRedraw.scrollTo('timeline', 200);
  });
  await draw(51);
  now = await scrolls();
  expect([now.chat.top, now.timeline.top]).toEqual([120, 200]); // kept where the reader left them
  await page.evaluate(() => window.focusRedraw.scrollTo('chat', 100_000)); // read to the end
  await draw(60);
  now = await scrolls();
  expect(now.chat.top).toBe(now.chat.end); // and it follows the new lines
  expect(now.timeline.top).toBe(200);
});

test('the board stays put under the pointer whatever the line above it says, wide or narrow', async ({ page }) => {
  // A line above the board that came, went or wrapped moved +1 under the mouse, and fast clicks
  // landed elsewhere: first an empty line that vanished, then a sentence long enough to wrap
  // (two outside audits). Drawn with the demo's own board, panel and styles, and no cluster.
  await page.goto('/e2e/pages/board-layout.html');
  const plusOneTop = (pending: number, confirmedNothingYet: boolean): Promise<ReturnType<BoardLayoutPage['plusOneTop']>> => page.evaluate(([count, nothingYet]) => window.boardLayout.plusOneTop(count, nothingYet), [pending, confirmedNothingYet] as const);
  for (const [width, height] of [[1280, 800], [1600, 900], [900, 800], [375, 700]] as const) {
    await page.setViewportSize({ width, height });
    const reloaded = await plusOneTop(0, true); // a reloaded page that has heard of no commit yet
    const tops = [await plusOneTop(1, true), await plusOneTop(0, false), await plusOneTop(1_000, false), await plusOneTop(0, false)];
    expect({ width, tops }).toEqual({ width, tops: [reloaded, reloaded, reloaded, reloaded] });
  }
});

test('a double-click on the lock’s buttons is one command, not a take and a give-back', async ({ page }) => {
  // The first click's redraw put Release where Take was, so the second click of a double-click
  // gave the lock straight back (a review). Drawn with the demo's own board, no cluster.
  await page.goto('/e2e/pages/board-layout.html');
  const dispatchedAfter = async (holder: string | null, fencingToken: number, button: string): Promise<unknown[]> => {
    await page.evaluate(([lockHolder, token]) => window.boardLayout.lockBoard(lockHolder, token), [holder, fencingToken] as const);
    await page.getByRole('button', { name: button }).dblclick();
    await page.waitForTimeout(100); // the redraws after it
    return page.evaluate(() => window.boardLayout.dispatched());
  };
  expect(await dispatchedAfter(null, 4, 'Take the lock')).toEqual([{ type: 'acquireLock', by: 'Ana' }]);
  expect(await dispatchedAfter('Bo', 4, 'Take over (token 5)')).toEqual([{ type: 'takeOverLock', by: 'Ana', fromToken: 4 }]);
  expect(await dispatchedAfter('Ana', 4, 'Release (token 4)')).toEqual([{ type: 'releaseLock', by: 'Ana', fencingToken: 4 }]);
  // Two separate clicks are two commands: take, then give back.
  await page.evaluate(() => window.boardLayout.lockBoard(null, 4));
  await page.getByRole('button', { name: 'Take the lock' }).click();
  await page.waitForTimeout(600); // longer than a double-click
  await page.getByRole('button', { name: 'Release (token 5)' }).click();
  expect(await page.evaluate(() => window.boardLayout.dispatched())).toEqual([{ type: 'acquireLock', by: 'Ana' }, { type: 'releaseLock', by: 'Ana', fencingToken: 5 }]);
});

test('concurrent claims of one task from three pages: exactly one wins, everywhere', async () => {
  const group = await peers(freshRoom('claims'), ['Ana', 'Bo', 'Cy']);
  await waitForCluster(group, 3);
  await group[0]!.page.evaluate(() => window.raftmeshDemo.dispatch({ type: 'addTask', id: 'prize', title: 'The one prize' }));
  await waitForBoards(group, 'the task everywhere', (board) => board.tasks.length === 1);
  const outcomes = await Promise.all(group.map((peer) => peer.page.evaluate((name) => window.raftmeshDemo.dispatch({ type: 'claimTask', id: 'prize', by: name }), peer.name)));
  expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
  const winner = group[outcomes.findIndex((outcome) => outcome.ok)]!.name;
  await waitForBoards(group, `claimed by ${winner} everywhere`, (board) => board.tasks[0]?.claimedBy === winner);
  for (const [position, outcome] of outcomes.entries()) {
    if (!outcome.ok) expect(outcome.error).toMatch(/already claimed by/);
    if (!outcome.ok) await expect(group[position]!.page.getByRole('alert')).toContainText('already claimed');
  }
});

test('same-origin tabs still form a cluster with the signaling server stopped (BroadcastChannel)', async ({ baseURL, browser }) => {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  try {
    const room = freshRoom('offline');
    const deadServer = 'ws://127.0.0.1:9'; // nothing listens here
    const tabs: DemoPeer[] = [];
    for (const name of ['Ana', 'Bo', 'Cy']) {
      const page = await context.newPage();
      await page.goto(`${baseURL}/demo/index.html?${new URLSearchParams({ room, signal: deadServer, name })}`);
      await page.waitForFunction(() => window.raftmeshDemo !== undefined);
      await page.evaluate(() => window.raftmeshDemo.ready);
      tabs.push({ name, page, context, close: () => page.close() });
    }
    const ids = await Promise.all(tabs.map(async (tab) => (await view(tab)).id));
    expect(new Set(ids).size).toBe(3); // one profile, three distinct members (a slot each)
    await waitForCluster(tabs, 3);
    await Promise.all(tabs.map((tab) => increment(tab)));
    await waitForBoards(tabs, 'three increments without a server', (board) => board.counter === 3);
  } finally {
    await context.close();
  }
});
