// Hostile frames into a live simulated cluster: random bytes and mutated frames from strangers
// (which may decode into well-formed lies) and undecodable garbage under members' names (SPEC:
// admitted voters may crash, not lie). The cluster must keep electing and committing, and every
// safety checker must hold.
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import { sampleMessages } from '../codec/sample-messages.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { createSimulatedCluster } from './cluster.ts';
import { deriveSeed, seededRandom } from './seeded-random.ts';

export interface FuzzOptions {
  readonly seed: number;
  readonly frames: number;
  /** Frames injected per millisecond of virtual time. */
  readonly framesPerMs?: number;
}

export interface FuzzResult {
  readonly frames: number;
  readonly decodable: number;
  readonly acknowledged: number;
  readonly virtualMs: number;
}

const strangers = [nodeId('mallory'), nodeId('eve')];
const sampleFrames = sampleMessages.map((message) => encodeMessage(message));

function mutate(random: () => number, frame: Uint8Array): Uint8Array {
  const bytes = Array.from(frame);
  const edits = 1 + Math.floor(random() * 3);
  for (let edit = 0; edit < edits; edit += 1) {
    const at = Math.floor(random() * Math.max(1, bytes.length));
    const choice = random();
    if (choice < 0.5) bytes[at] = Math.floor(random() * 256);
    else if (choice < 0.7) bytes.splice(at, 0, Math.floor(random() * 256));
    else if (choice < 0.9) bytes.splice(at, 1);
    else bytes.length = at;
  }
  return new Uint8Array(bytes);
}

function hostileFrame(random: () => number, current: number): Uint8Array {
  const choice = random();
  if (choice < 0.3) return new Uint8Array(Array.from({ length: Math.floor(random() * 48) }, () => Math.floor(random() * 256)));
  const sample = sampleMessages[Math.floor(random() * sampleMessages.length)]!;
  if (choice < 0.6) return mutate(random, sampleFrames[sampleMessages.indexOf(sample)]!);
  // A well-formed lie about terms and indices near the live cluster's.
  const term = Math.max(0, current + Math.floor(random() * 5) - 2);
  const lie = JSON.parse(JSON.stringify(sample, (_key, value) => (value instanceof Uint8Array ? Array.from(value) : value)), (key, value) => {
    if (key === 'term' || key === 'lastLogTerm' || key === 'prevLogTerm') return term;
    if (Array.isArray(value) && value.every((item) => typeof item === 'number')) return new Uint8Array(value);
    return value;
  });
  try {
    return encodeMessage(lie);
  } catch {
    return mutate(random, sampleFrames[0]!);
  }
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const random = seededRandom(deriveSeed(options.seed, 'fuzz'));
  const cluster = createSimulatedCluster({ seed: options.seed, size: 3 });
  const framesPerMs = options.framesPerMs ?? 50;
  let sent = 0;
  let decodable = 0;
  try {
    await cluster.start();
    await cluster.waitForLeader(2_000);
    while (sent < options.frames) {
      const term = cluster.leader()?.node?.term.value ?? 1;
      for (let burst = 0; burst < framesPerMs && sent < options.frames; burst += 1) {
        const frame = hostileFrame(random, term);
        const fromStranger = random() < 0.5;
        const valid = decodeMessage(frame).ok;
        // Members are trusted not to lie: under their names only undecodable frames.
        if (!fromStranger && valid) continue;
        if (valid) decodable += 1;
        const from: NodeId = fromStranger ? strangers[Math.floor(random() * strangers.length)]! : cluster.ids[Math.floor(random() * cluster.ids.length)]!;
        const to = cluster.ids[Math.floor(random() * cluster.ids.length)]!;
        cluster.network.inject(from, to, frame);
        sent += 1;
      }
      const proposer = cluster.ids[Math.floor(random() * cluster.ids.length)]!;
      void cluster.propose(proposer, new TextEncoder().encode(`fuzz-${sent}`), { timeoutMs: 1_000 });
      await cluster.runFor(1);
    }
    const leader = await cluster.waitForLeader(5_000);
    if (leader === null) throw new Error(`fuzz seed ${options.seed}: no leader after the fuzz`);
    const last = await cluster.settle(cluster.propose(leader.id, new TextEncoder().encode('after-fuzz')), 5_000);
    if (last === null || last === undefined) throw new Error(`fuzz seed ${options.seed}: no commit after the fuzz`);
    await cluster.runUntil(() => [...cluster.nodes.values()].every((simulated) => simulated.appliedIndex >= last.index), 5_000);
    cluster.checker.checkAcknowledgedApplied();
    cluster.checker.throwIfViolated();
    return { frames: sent, decodable, acknowledged: cluster.checker.acknowledgedCount, virtualMs: cluster.clock.now() };
  } finally {
    await cluster.close();
  }
}
