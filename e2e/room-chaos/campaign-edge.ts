// The edge peer's part of a campaign: its schedule steps, its starts (a witness's id goes to every
// page opened afterwards), its /healthz with the sightings of it leading that it gives, a watch
// that keeps asking while the faults run, and its heal.
import type { ChaosEdgePeer, EdgePeerHealth } from './edge-peer.ts';
import type { ChaosPeerStatus } from './page-api.ts';
import { edgePeerName, type ScheduleStep } from './schedule.ts';
import { recordEdgeLeader } from './witness.ts';
import { bounded, errorText, note, sleep, statusTimeoutMs, type World } from './campaign-world.ts';

/** How long a restarted edge peer may take to join (discovery, the removed-while-away check). */
const edgeJoinTimeoutMs = 120_000;
/**
 * How often the watch asks the edge peer's /healthz while the faults run: often enough to learn a
 * fresh id soon (joinRoom's rejoin after a wedge logs no "joined" line) and to catch it leading
 * between two of its log lines' worth of evidence, rarely enough to cost nothing.
 */
const edgeWatchIntervalMs = 2_000;

/** The edge peer's steps; its process must be running (and for a return, must not be). */
export async function executeEdgeStep(world: World, edge: ChaosEdgePeer, step: ScheduleStep): Promise<void> {
  if ((step.kind === 'edge-return') !== (edge.state === 'down')) {
    note(world, edgePeerName, `skipped ${step.kind}: the edge peer is ${edge.state}`);
    return;
  }
  switch (step.kind) {
    case 'edge-return':
      return startEdge(world, edge);
    case 'edge-kill':
      await edge.kill();
      return note(world, edgePeerName, 'SIGKILL to its process');
    case 'edge-freeze':
      return edge.freeze();
    case 'thaw':
      return edge.thaw();
    case 'edge-partition':
      return edge.setConnected(false);
    case 'reconnect':
      return edge.setConnected(true);
    default:
      throw new Error(`${step.kind} is not an edge peer step`);
  }
}

export async function startEdge(world: World, edge: ChaosEdgePeer): Promise<void> {
  const before = edge.ids[edge.ids.length - 1];
  const id = await edge.start();
  if (world.options.witness) world.settings = { ...world.settings, witness: id };
  note(world, edgePeerName, before === undefined ? `started as ${id}, output in ${edge.logFile}` : id === before ? `back as ${id} (same identity, same data directory)` : `back as ${id} (was ${before})`);
}

/** A tab whose node named one of the edge peer's ids leader: a sighting (witness.ts). */
export function noteEdgeLeaderSeenBy(world: World, tab: string, status: ChaosPeerStatus): void {
  for (const id of world.edge?.ids ?? []) {
    if (status.leader === id || status.leadersSeen.includes(id)) recordEdgeLeader(world.history.edgeLeaderObservations, { atMs: world.now(), id, source: tab });
  }
}

/** The edge peer's /healthz, with a sighting if it says it leads. */
export async function edgeHealth(world: World, edge: ChaosEdgePeer): Promise<EdgePeerHealth> {
  const health = await bounded(edge.health(), statusTimeoutMs, 'edge peer health');
  if (health.role === 'leader') recordEdgeLeader(world.history.edgeLeaderObservations, { atMs: world.now(), id: health.id, source: 'edge health' });
  return health;
}

/** Starts the edge peer again until it has joined (its /healthz says ok), twice at most. */
export async function healEdge(world: World, edge: ChaosEdgePeer): Promise<void> {
  try {
    edge.thaw();
    if (edge.state === 'live' && !edge.connected) edge.setConnected(true);
  } catch (error) {
    note(world, edgePeerName, `heal failed: ${errorText(error)}`);
  }
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    try {
      if (edge.state === 'down') await startEdge(world, edge);
      const started = world.now();
      while (edge.state === 'live' && (await edgeHealth(world, edge).catch(() => null))?.status !== 'ok') {
        if (world.now() - started > edgeJoinTimeoutMs) throw new Error(`not joined within ${edgeJoinTimeoutMs / 1000} s`);
        await sleep(1_000);
      }
      if (edge.state === 'live') return;
    } catch (error) {
      note(world, edgePeerName, `start after the heal failed (attempt ${attempt}): ${errorText(error)}`);
    }
  }
  world.history.unstartable.push(edgePeerName);
}

/**
 * Asks the edge peer's /healthz every `edgeWatchIntervalMs` while it runs and is not frozen (a
 * stopped process would only time the request out): a fresh id reaches the pages opened next,
 * and a sighting of it leading is recorded. Answers the function that stops the watch.
 */
export function watchEdge(world: World, edge: ChaosEdgePeer): () => Promise<void> {
  let stopped = false;
  const watching = (async () => {
    while (!stopped) {
      if (edge.state === 'live' && !edge.frozen) await edgeHealth(world, edge).catch(() => undefined);
      await sleep(edgeWatchIntervalMs);
    }
  })();
  return async () => {
    stopped = true;
    await watching;
  };
}
