// One campaign: a signaling server on 127.0.0.1 with a room secret, Chromium tabs (and optionally
// an edge peer) joining one room, the seeded schedule of faults (schedule.ts) executed step by step
// while every live tab writes and reads (workload.ts), then the final heal: every fault undone,
// every tab that was not removed for good back (and the edge peer, if it was killed), the load
// stopped, the room given time to converge,
// one last dispatch and read on every live member, and the final state of each recorded. The
// verdict is the checker's, from the history alone.
//
// With `witness` the edge peer is the room's witness (`raftmesh-peer --witness`) and every page
// names it in its room options (`joinRoom({ witness })`, the demo's `&witness=<id>`): the id it
// runs under when the page opens, so a page opened after the room replaced the witness names its
// fresh id, as a demo link the operator updated would. Every sighting of the edge peer leading is
// recorded (its log, its /healthz, the tabs' nodes), and a tab leaves for good only when that
// cannot strand the room by design (witness.ts); a leave held back for that is noted and counted.
import { deriveAdmissionKey } from '../../src/signaling/admission.ts';
import { startSignalingServer, type SignalingServer } from '../../src/signaling/server/index.ts';
import { seededRandom, deriveSeed } from '../../src/testing/seeded-random.ts';
import { bounded, errorText, note, sleep, statusTimeoutMs, type CampaignOptions, type CampaignPace, type World } from './campaign-world.ts';
import { edgeHealth, executeEdgeStep, healEdge, noteEdgeLeaderSeenBy, startEdge, watchEdge } from './campaign-edge.ts';
import { createChaosTab, type ChaosTab } from './chaos-tab.ts';
import { checkHistory, type Verdict } from './checker.ts';
import { notConvergedBecause, type MemberView } from './convergence.ts';
import { createChaosEdgePeer } from './edge-peer.ts';
import { createHistory, type ChaosHistory } from './history.ts';
import { countFaults, describeStep, edgePeerName, generateSchedule, type ScheduleSettings, type ScheduleStep } from './schedule.ts';
import { createWorkload } from './workload.ts';
import { leaveWithoutMajorityReason } from './leave-rules.ts';
import { edgeLogSource, recordEdgeLeader, strandingLeaveReason } from './witness.ts';

export type { CampaignOptions, CampaignPace } from './campaign-world.ts';

export interface CampaignResult {
  readonly history: ChaosHistory;
  readonly verdict: Verdict;
  /** The harness itself broke (a browser would not launch…): the verdict then says little. */
  readonly harnessError: string | null;
}

/** The policy's settings on every page (the edge peer uses the library's defaults, the same). */
const targetVoters = 5;
const unreachableAfterMs = 10_000;
const finalOperationTimeoutMs = 60_000;
const settleTimeoutMs = 90_000;

/** Who is in the room: the edge peer, as witness or not, and with `tabs` a fixed number of tabs. */
export interface RoomShape {
  readonly edgePeer: boolean;
  readonly witness?: boolean;
  /**
   * The room starts with this many tabs and never holds more (`--tabs`; two with the witness is
   * the room the witness is for). Default: four, growing to five.
   */
  readonly tabs?: number;
}

export function scheduleSettings(seed: number, seconds: number, pace: CampaignPace, room: RoomShape): ScheduleSettings {
  const tabs = room.tabs === undefined ? { initialTabs: 4, maxTabs: 5 } : { initialTabs: room.tabs, maxTabs: room.tabs };
  const common = { seed, durationMs: seconds * 1_000, maxConcurrentFaults: 2, leaveSpacingMs: unreachableAfterMs + 15_000, edgePeer: room.edgePeer, witness: room.witness ?? false, ...tabs };
  return pace === 'short'
    ? { ...common, gapMs: [1_500, 3_000], faultLengthMs: [2_000, 6_000] }
    : { ...common, gapMs: [2_000, 7_000], faultLengthMs: [2_000, 18_000] };
}

function tabOf(world: World, name: string): ChaosTab {
  let tab = world.tabs.get(name);
  if (tab === undefined) {
    tab = createChaosTab(name, world.options.baseUrl, () => world.settings);
    world.tabs.set(name, tab);
  }
  return tab;
}

async function startTab(world: World, tab: ChaosTab): Promise<void> {
  const before = tab.nodeId;
  const id = await tab.start();
  note(world, tab.name, before === null ? `started as ${id}` : id === before ? `back as ${id} (same identity)` : `back as ${id} (was ${before})`);
  world.workload.follow(tab);
}

async function executeStep(world: World, step: ScheduleStep): Promise<void> {
  if (step.tab === edgePeerName) {
    if (world.edge === null) throw new Error(`${step.kind} for the edge peer, but none runs`);
    return executeEdgeStep(world, world.edge, step);
  }
  const tab = tabOf(world, step.tab);
  const expectLive = step.kind !== 'join' && step.kind !== 'return';
  if (expectLive && tab.state !== 'live') {
    note(world, tab.name, `skipped ${step.kind}: the tab is ${tab.state}`);
    return;
  }
  switch (step.kind) {
    case 'join':
    case 'return':
      return startTab(world, tab);
    case 'leave': {
      const before = await bounded(tab.status(), statusTimeoutMs, 'status before leaving').catch(() => null);
      if (before !== null) noteEdgeLeaderSeenBy(world, tab.name, before);
      if (world.options.witness) {
        const reason = before === null ? 'its configuration is unknown (no status)' : strandingLeaveReason(before.voters, before.id, world.edge?.ids ?? []);
        if (reason !== null) {
          world.history.leavesHeldBack += 1;
          return note(world, tab.name, `leave held back: ${reason} (README "Edge peers")`);
        }
      }
      const liveIds = [...liveTabs(world).flatMap((each) => (each.nodeId === null ? [] : [each.nodeId])), ...(world.edge === null || world.edge.state === 'down' ? [] : world.edge.ids)];
      const withoutMajority = before === null ? null : leaveWithoutMajorityReason(before.voters, before.id, liveIds);
      if (withoutMajority !== null) {
        world.history.leavesHeldBack += 1;
        return note(world, tab.name, `leave held back: ${withoutMajority} (leave-rules.ts)`);
      }
      world.history.departures.push({ atMs: world.now(), tab: tab.name, id: before?.id ?? null, voters: before === null ? null : [...before.voters] });
      world.history.departedIds.push(...tab.nodeIds);
      await tab.leave();
      return note(world, tab.name, `left (ids ${tab.nodeIds.join(', ')})`);
    }
    case 'crash':
      await noteSightingsBeforeLoss(world, tab);
      return tab.crashPage();
    case 'kill': {
      await waitUntilItHoldsALog(world, tab);
      await noteSightingsBeforeLoss(world, tab);
      note(world, tab.name, `SIGKILL to ${await tab.kill()} processes`);
      if (!world.databaseLossArmed) return;
      const refused = tab.damageDatabase();
      // Disarmed at once: a second loss at the same time could leave the room without a majority.
      if (refused === null) world.databaseLossArmed = false;
      return note(world, tab.name, refused === null ? 'its IndexedDB log damaged: the database is gone when it returns' : `its IndexedDB log left alone: ${refused}`);
    }
    case 'freeze':
      return tab.freeze();
    case 'thaw':
      return tab.thaw();
    case 'partition':
      return tab.setConnected(false);
    case 'reconnect':
      return tab.setConnected(true);
    case 'edge-kill':
    case 'edge-return':
    case 'edge-freeze':
    case 'edge-partition':
      throw new Error(`${step.kind} names ${step.tab}, not the edge peer`);
    default:
      throw new Error(`unknown step ${String(step satisfies never)}`);
  }
}

/**
 * A page about to be closed or killed takes with it the leaders its node saw: with an edge peer,
 * its sightings of the edge peer leading are read first (the only record of a brief leadership
 * only that tab saw). Runs without an edge peer keep their timing: nothing is read.
 */
async function noteSightingsBeforeLoss(world: World, tab: ChaosTab): Promise<void> {
  if (world.edge === null) return;
  const status = await bounded(tab.status(), statusTimeoutMs, 'status before the fault').catch(() => null);
  if (status !== null) noteEdgeLeaderSeenBy(world, tab.name, status);
}

/** The id each tab was last seen holding a log under (waitUntilItHoldsALog). */
const holdingALog = new WeakMap<ChaosTab, string>();

/**
 * Before a kill, a tab that has just come back under a fresh id waits (bounded) until its node
 * holds a log: listed in its own configuration, having applied what listed it. A kill a moment
 * after its return found the learner the room had just admitted with nothing on disk yet, and a
 * peer back on empty storage under an id the room lists must take a fresh one (SPEC "Wedge"),
 * so whether the next return kept its id was a race between the room's admission and the kill
 * (seed 46 of e2e/room-chaos.spec.ts, whose second kill is meant to find the database intact,
 * came back under a fresh id in every run of 2026-12-07's fourth session, on the code of that
 * session's start too). A tab that already held a log under its id reads no status here.
 */
async function waitUntilItHoldsALog(world: World, tab: ChaosTab): Promise<void> {
  if (tab.nodeId !== null && holdingALog.get(tab) === tab.nodeId) return;
  for (let waited = 0; waited <= statusTimeoutMs; waited += 250) {
    const status = await bounded(tab.status(), statusTimeoutMs, 'status before the kill').catch(() => null);
    if (status !== null && (status.voters.includes(status.id) || status.learners.includes(status.id)) && status.appliedIndex > 0) {
      // Its last entries are written before they are acknowledged, a moment after they apply.
      await sleep(500);
      holdingALog.set(tab, status.id);
      return;
    }
    await sleep(250);
  }
  note(world, tab.name, `killed without holding a log: not a member with applied entries within ${statusTimeoutMs} ms`);
}

async function startInitialTabs(world: World, names: readonly string[]): Promise<void> {
  const [first, ...rest] = names.map((name) => tabOf(world, name));
  if (first === undefined) throw new Error('a campaign needs at least one tab');
  // The first tab bootstraps the room (or joins the edge peer's); the rest join it.
  await startTab(world, first);
  for (let waited = 0; (await bounded(first.status(), statusTimeoutMs, 'status')).leader === null; waited += 500) {
    if (waited > 60_000) throw new Error(`${first.name} found no leader in 60 s`);
    await sleep(500);
  }
  await Promise.all(rest.map((tab) => startTab(world, tab)));
}

/**
 * Steps run on time, each tab's in schedule order: a step waits for the previous step of its own
 * tab (a return for the browser to start, say), never for another tab's, so one slow start does
 * not stretch every fault after it.
 */
async function runSchedule(world: World, steps: readonly ScheduleStep[]): Promise<void> {
  const origin = world.now();
  const chains = new Map<string, Promise<void>>();
  for (const step of steps) {
    await sleep(origin + step.atMs - world.now());
    const run = async (): Promise<void> => {
      world.options.log(`${(world.now() / 1000).toFixed(1).padStart(7)} s  step ${describeStep(step).trim()}`);
      try {
        await executeStep(world, step);
      } catch (error) {
        note(world, step.tab, `${step.kind} failed: ${errorText(error)}`);
      }
    };
    chains.set(step.tab, (chains.get(step.tab) ?? Promise.resolve()).then(run));
  }
  await Promise.all(chains.values());
}

const liveTabs = (world: World): ChaosTab[] => [...world.tabs.values()].filter((tab) => tab.state === 'live');

async function memberViews(world: World): Promise<MemberView[]> {
  const views = await Promise.all(liveTabs(world).map(async (tab) => ({ tab: tab.name, status: await bounded(tab.status(), statusTimeoutMs, `${tab.name} status`) })));
  for (const view of views) noteEdgeLeaderSeenBy(world, view.tab, view.status);
  return views;
}

/** Polls until converged or the bound; answers why not, or null. */
async function awaitConvergence(world: World, what: string): Promise<string | null> {
  const started = world.now();
  let reason: string | null = 'not looked yet';
  let lastLogged: string | null = null;
  while (world.now() - started < world.options.convergenceTimeoutMs) {
    try {
      const edge = world.edge === null || world.edge.state === 'down' ? null : await edgeHealth(world, world.edge);
      reason = notConvergedBecause(await memberViews(world), edge === null ? null : { id: edge.id, leader: edge.leader ?? null }, targetVoters);
    } catch (error) {
      reason = errorText(error);
    }
    if (reason === null) {
      world.options.log(`${(world.now() / 1000).toFixed(1).padStart(7)} s  converged ${what} after ${((world.now() - started) / 1000).toFixed(1)} s`);
      return null;
    }
    if (reason !== lastLogged) world.options.log(`${(world.now() / 1000).toFixed(1).padStart(7)} s  waiting ${what}: ${reason}`);
    lastLogged = reason;
    await sleep(1_000);
  }
  return `not converged ${what} within ${world.options.convergenceTimeoutMs / 1000} s: ${reason}`;
}

async function healEverything(world: World): Promise<void> {
  for (const tab of world.tabs.values()) {
    try {
      if (tab.frozen) await tab.thaw();
      if (tab.state === 'live') await tab.setConnected(true);
    } catch (error) {
      note(world, tab.name, `heal failed: ${errorText(error)}`);
    }
  }
  await Promise.all([
    ...[...world.tabs.values()].filter((tab) => tab.state === 'down').map(async (tab) => {
      for (let attempt = 1; tab.state === 'down' && attempt <= 2; attempt += 1) {
        await startTab(world, tab).catch((error: unknown) => note(world, tab.name, `start after the heal failed (attempt ${attempt}): ${errorText(error)}`));
      }
      if (tab.state === 'down') world.history.unstartable.push(tab.name);
    }),
    world.edge === null ? Promise.resolve() : healEdge(world, world.edge),
  ]);
}

async function finishCampaign(world: World): Promise<void> {
  world.options.log(`${(world.now() / 1000).toFixed(1).padStart(7)} s  final heal`);
  await healEverything(world);
  await bounded(world.workload.stop(), settleTimeoutMs, 'the load settling').catch((error: unknown) => note(world, 'campaign', errorText(error)));
  world.options.log(`${(world.now() / 1000).toFixed(1).padStart(7)} s  load stopped`);
  const first = await awaitConvergence(world, 'after the heal');
  // Liveness: every live member commits and reads once more, whatever the wait above found.
  await Promise.all(liveTabs(world).map(async (tab) => {
    await world.workload.dispatchOnce(tab, true, finalOperationTimeoutMs);
    await world.workload.readOnce(tab, true, finalOperationTimeoutMs);
  }));
  world.options.log(`${(world.now() / 1000).toFixed(1).padStart(7)} s  final operations done`);
  // After a wait that ran out, a second full wait would only double the run: one more look.
  const second = first === null ? await awaitConvergence(world, 'after the final operations') : null;
  world.history.convergenceTimeout = first ?? second;
  if (world.edge !== null) {
    const edge = world.edge;
    world.history.edgeFinal = edge.state === 'live' ? await edgeHealth(world, edge).catch(() => null) : null;
    world.history.edgePeerId = edge.state === 'live' ? world.history.edgeFinal?.id ?? edge.ids[edge.ids.length - 1] ?? null : null;
    world.history.edgePeerIds = [...edge.ids];
  }
  // The pages stamp configurations with Date.now(): the campaign's time 0 on that clock.
  const epochAtStartMs = Date.now() - world.now();
  world.history.final = await Promise.all(liveTabs(world).map(async (tab) => ({
    tab: tab.name,
    status: await bounded(tab.status(), statusTimeoutMs, `${tab.name} status`),
    appliedIds: await bounded(tab.appliedIds(), statusTimeoutMs, `${tab.name} ids`),
    events: await bounded(tab.events(), statusTimeoutMs, `${tab.name} events`),
    configurations: (await bounded(tab.configurations(), statusTimeoutMs, `${tab.name} configurations`)).map((seen) => ({ ...seen, atMs: seen.atMs - epochAtStartMs })),
  })));
  world.history.nodeNames = Object.fromEntries([
    ...world.history.edgePeerIds.map((id) => [id, edgePeerName] as const),
    ...[...world.tabs.values()].flatMap((tab) => tab.nodeIds.map((id) => [id, tab.name] as const)),
  ]);
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  if (options.witness && !options.edgePeer) throw new Error('a witness campaign needs the edge peer');
  const schedule = generateSchedule(scheduleSettings(options.seed, options.seconds, options.pace, { edgePeer: options.edgePeer, witness: options.witness, ...(options.tabs === undefined ? {} : { tabs: options.tabs }) }));
  const room = `room-chaos-${options.seed}-${Date.now().toString(36)}`;
  const secret = `room chaos secret ${options.seed}, long and random in real use`;
  const server: SignalingServer = await startSignalingServer({ port: 0, host: '127.0.0.1', rooms: { [room]: { admissionKey: await deriveAdmissionKey(secret, room) } } });
  const started = performance.now();
  let world: World | null = null;
  let harnessError: string | null = null;
  const history = createHistory({
    seed: options.seed,
    seconds: options.seconds,
    targetVoters,
    edgePeerId: null,
    edgePeerTimeouts: options.edgePeer ? (options.edgeDefaultTimeouts ? 'defaults' : 'pages') : null,
    edgePeerWitness: options.witness,
    ...(options.loseDatabaseOnKill === true ? { loseDatabaseOnKill: true } : {}),
    tabs: options.tabs ?? null,
    schedule,
    faultsInjected: countFaults(schedule),
  });
  const now = (): number => performance.now() - started;
  const edge = options.edgePeer
    ? createChaosEdgePeer({
        room,
        signalingUrl: server.url,
        secret,
        defaultTimeouts: options.edgeDefaultTimeouts,
        witness: options.witness,
        onUnexpectedExit: (what) => (world === null ? undefined : note(world, edgePeerName, what)),
        onNewId: (previous, id) => {
          if (world === null) return;
          if (options.witness) world.settings = { ...world.settings, witness: id };
          note(world, edgePeerName, `joined as ${id}, giving ${previous} up (the room had replaced it)`);
        },
        onLeading: (id, line) => {
          recordEdgeLeader(history.edgeLeaderObservations, { atMs: now(), id, source: edgeLogSource });
          if (world !== null && options.witness) note(world, edgePeerName, `the witness logged that it leads: ${line}`);
        },
      })
    : null;
  try {
    world = {
      options,
      settings: { signalingUrl: server.url, room, secret, unreachableAfterMs, targetVoters },
      tabs: new Map(),
      history,
      workload: createWorkload(history, now, seededRandom(deriveSeed(options.seed, 'workload'))),
      edge,
      now,
      databaseLossArmed: options.loseDatabaseOnKill === true,
    };
    if (edge !== null) await startEdge(world, edge);
    await startInitialTabs(world, schedule.initialTabs);
    const stopWatch = edge === null ? null : watchEdge(world, edge);
    try {
      await runSchedule(world, schedule.steps);
    } finally {
      await stopWatch?.();
    }
    await finishCampaign(world);
  } catch (error) {
    harnessError = error instanceof Error ? (error.stack ?? error.message) : String(error);
  } finally {
    await bounded(world?.workload.stop() ?? Promise.resolve(), settleTimeoutMs, 'the load settling').catch(() => undefined);
    await Promise.all([...(world?.tabs.values() ?? [])].map((tab) => tab.dispose().catch(() => undefined)));
    await edge?.dispose().catch(() => undefined);
    await server.close();
  }
  return { history, verdict: checkHistory(history), harnessError };
}
