// A fingerprint of everything a simulated run did that anyone could observe: every frame each node
// sent (bytes, in order), every trace event, every entry and snapshot each node applied, every
// read and proposal acknowledged, snapshots published, leaders elected. Two runs of a seed with
// the same digest behaved the same; a refactoring of the engine that must not change behaviour
// is checked by comparing digests before and after (sim-cli --digest).
//
// The run's order of events depends on microtask timing, so the observers are synchronous
// listeners only: no promise, no await, nothing queued. Attaching them must not change the run
// (sim-cli prints the same summary line with and without --digest).
import type { SimulatedCluster } from './cluster.ts';

/** 64-bit digest as two independent 32-bit FNV-1a lanes (different offsets and primes). */
export class SimulationDigest {
  private low = 0x811c9dc5;
  private high = 0x050c5d1f;

  private byte(value: number): void {
    this.low = Math.imul(this.low ^ value, 0x01000193) >>> 0;
    this.high = Math.imul(this.high ^ value, 0x01000199) >>> 0;
  }

  private text(value: string): void {
    for (let position = 0; position < value.length; position += 1) {
      const code = value.charCodeAt(position);
      this.byte(code & 0xff);
      this.byte(code >>> 8);
    }
  }

  private bytes(value: Uint8Array): void {
    this.text(`b${value.length}:`);
    for (const byte of value) this.byte(byte);
  }

  /** Feeds any value canonically: object keys sorted, bytes as bytes, maps and sets as lists. */
  add(value: unknown): void {
    if (value instanceof Uint8Array) return this.bytes(value);
    if (Array.isArray(value)) {
      this.text(`[${value.length}`);
      for (const item of value) this.add(item);
      return this.text(']');
    }
    if (value instanceof Map) return this.add([...value.entries()]);
    if (value instanceof Set) return this.add([...value]);
    if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      this.text(`{${keys.length}`);
      for (const key of keys) {
        this.text(`${key}=`);
        this.add(record[key]);
      }
      return this.text('}');
    }
    const text = typeof value === 'string' ? `s${value.length}:${value}` : `${typeof value}:${String(value)};`;
    this.text(text);
  }

  /** One observation: a kind and its details. */
  record(kind: string, ...details: unknown[]): void {
    this.text(`<${kind}`);
    for (const detail of details) this.add(detail);
    this.text('>');
  }

  get hex(): string {
    return this.high.toString(16).padStart(8, '0') + this.low.toString(16).padStart(8, '0');
  }
}

type Methods = Record<string, (...args: unknown[]) => unknown>;

/** Wraps an object's method so each call is recorded, then forwarded unchanged. */
function recordCalls(digest: SimulationDigest, target: Methods, name: string): void {
  const original = (target[name] as (...args: unknown[]) => unknown).bind(target);
  target[name] = (...args: unknown[]) => {
    digest.record(name, ...args);
    return original(...args);
  };
}

/** Attaches the digest's synchronous observers to a cluster before it starts. */
export function observeForDigest(cluster: SimulatedCluster, digest: SimulationDigest): void {
  cluster.network.onSend = (from, to, bytes) => digest.record('send', from, to, cluster.clock.now(), bytes);
  cluster.observers.nodeStarted = (simulated, node) => {
    const incarnation = simulated.incarnation;
    digest.record('started', simulated.id, incarnation, cluster.clock.now());
    node.trace.subscribe((event) => digest.record('trace', incarnation, event));
  };
  const checker = cluster.checker as unknown as Methods;
  for (const name of ['applyOrder', 'entryApplied', 'snapshotInstalled', 'snapshotPublished', 'readCompleted', 'proposalAcknowledged', 'leaderElected', 'stateReached']) {
    recordCalls(digest, checker, name);
  }
}
