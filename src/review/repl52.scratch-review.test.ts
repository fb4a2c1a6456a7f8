// Review (replication and elections, src/core): the random cluster, marked "confirmed correct"
// (the other tests live on in src/core: vote-denial-reasons, durability, append-rejection-trace).
import { describe, expect, it } from 'vitest';
import type { RaftConfig } from '../core/config.ts';
import { runFuzz } from './repl52-fuzz.test-support.ts';

describe('confirmed correct: a random core-level cluster (async in-order writes, crashes losing writes in flight, drops, duplicates, delays, partitions) keeps the safety properties and converges after the heal', () => {
  // Checked after every step: one leader per term, committed entries never change, every success
  // acknowledgement on the wire is covered by the sender's disk and matches the leader that
  // receives it, every vote granted is on the voter's disk; after the faults stop, one leader and
  // every log equal and committed. 530 seeds of these shapes (3 and 5 nodes, witnesses, tight
  // windows, heartbeat near the election timeout) passed during the review.
  const shapes: Array<{ name: string; nodes: number; witnesses: number; config: RaftConfig }> = [
    { name: 'three nodes, tight windows and 1 KiB batches', nodes: 3, witnesses: 0, config: { electionTimeoutMin: 30, electionTimeoutMax: 60, heartbeatInterval: 8, maxInflightMessages: 2, maxAppendBytes: 1024 } },
    { name: 'three nodes with a witness, one message in flight', nodes: 3, witnesses: 1, config: { electionTimeoutMin: 40, electionTimeoutMax: 80, heartbeatInterval: 10, maxInflightMessages: 1 } },
    { name: 'five nodes, heartbeat close to the election timeout', nodes: 5, witnesses: 0, config: { electionTimeoutMin: 40, electionTimeoutMax: 45, heartbeatInterval: 35 } },
  ];
  for (const shape of shapes) {
    it(`confirmed correct: ${shape.name}`, () => {
      for (let seed = 1; seed <= 4; seed += 1) {
        const result = runFuzz({ seed, nodes: shape.nodes, witnesses: shape.witnesses, steps: 6_000, config: shape.config, writeRate: 0.1, maxDelay: 30, crashRate: 0.005, dropRate: 0.15 });
        expect(result.violations, result.summary).toEqual([]);
        expect(result.leaderAtEnd, result.summary).toBe(true);
        expect(result.converged, result.summary).toBe(true);
      }
    });
  }
});

