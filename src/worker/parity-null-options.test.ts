// Guards that a call with `null` options rejects on the worker node as on createRaftNode's, rather
// than throwing at the call, where a caller's .catch() never runs (found by a review, 2026-12-07).
import { describe, expect, it } from 'vitest';
import type { RaftNode } from '../driver/node-options.ts';
import { bytes, soloDriver, soloWorker } from './parity.test-support.ts';

/** 'rejects' when the call returns a promise that rejects, 'throws' when the call itself throws. */
async function howItFails(call: () => Promise<unknown>): Promise<string> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (error) {
    return `throws ${(error as Error).name}`;
  }
  try {
    await promise;
    return 'resolves';
  } catch (error) {
    return `rejects ${(error as Error).name}`;
  }
}

const calls: ReadonlyArray<readonly [string, (node: RaftNode) => Promise<unknown>]> = [
  ['propose(command, null)', (node) => node.propose(bytes('x'), null as never)],
  ['readIndex(null)', (node) => node.readIndex(null as never)],
  ['changeMembership(target, null)', (node) => node.changeMembership({ voters: [node.id] }, null as never)],
];

describe('a call with null options', () => {
  for (const [label, call] of calls) {
    it(`${label}: the worker node rejects, as createRaftNode does, rather than throwing at the call`, async () => {
      const driver = await soloDriver();
      const { node } = await soloWorker();
      await Promise.all([driver.awaitLeadership(), node.awaitLeadership()]);
      const onDriver = await howItFails(() => call(driver));
      const onWorker = await howItFails(() => call(node));
      await Promise.all([driver.close(), node.close()]);
      expect(onDriver).toBe('rejects TypeError');
      expect(onWorker).toBe(onDriver);
    });
  }
});
