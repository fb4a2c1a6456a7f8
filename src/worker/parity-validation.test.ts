// Validation parity between createWorkerRaftNode's page node and createRaftNode's node.
import { describe, expect, it } from 'vitest';
import type { RaftNode } from '../driver/node-options.ts';
import { bytes, errorName, settledWithin, soloDriver, soloWorker } from './parity.test-support.ts';

async function outcomesFor(node: RaftNode, requestId: unknown): Promise<string> {
  await node.awaitLeadership();
  return errorName(await settledWithin(node.propose(bytes('x'), { requestId: requestId as number }), 3_000));
}

describe('propose requestId validation parity', () => {
  for (const [label, requestId] of [
    ['null', null],
    ['the string "5"', '5'],
    ['the bigint 7n', 7n],
    ['a boxed Number(9)', Object(9)],
  ] as const) {
    it(`requestId ${label}: the worker node settles the same way as createRaftNode's`, async () => {
      const driver = await soloDriver();
      const { node } = await soloWorker();
      const onDriver = await outcomesFor(driver, requestId);
      const onWorker = await outcomesFor(node, requestId);
      await Promise.all([driver.close(), node.close()]);
      expect({ requestId: label, onWorker }).toEqual({ requestId: label, onWorker: onDriver });
    });
  }
});

describe('one bad proposal in a burst', () => {
  it('a requestId whose text is longer than 64 bytes rejects alone; the other proposals of the burst still resolve', async () => {
    const { node } = await soloWorker();
    await node.awaitLeadership();
    const good = node.propose(bytes('good'));
    const bad = node.propose(bytes('bad'), { requestId: '1'.repeat(70) as unknown as number });
    const alsoGood = node.propose(bytes('also good'));
    const outcomes = await Promise.all([good, bad, alsoGood].map((p) => settledWithin(p, 3_000).then(errorName)));
    await node.close();
    expect(outcomes).toEqual(['resolved', 'RangeError', 'resolved']);
  });

  it('a requestId that cannot be turned into text rejects alone; the other proposals of the burst still resolve', async () => {
    const { node } = await soloWorker();
    await node.awaitLeadership();
    const driver = await soloDriver();
    await driver.awaitLeadership();
    const unprintable = Object.create(null) as number;
    const onDriver = await settledWithin(driver.propose(bytes('bad'), { requestId: unprintable }), 3_000).then(errorName);
    await driver.close();
    const good = node.propose(bytes('good'));
    const bad = node.propose(bytes('bad'), { requestId: unprintable });
    const alsoGood = node.propose(bytes('also good'));
    const outcomes = await Promise.all([good, bad, alsoGood].map((p) => settledWithin(p, 3_000).then(errorName)));
    await node.close();
    expect(outcomes).toEqual(['resolved', onDriver, 'resolved']);
  });
});

describe('publishSnapshot parity', () => {
  for (const kind of ['driver', 'worker'] as const) {
    it(`${kind}: a snapshot through the index of an entry whose propose resolved is accepted`, async () => {
      const node = kind === 'driver' ? await soloDriver() : (await soloWorker()).node;
      await node.awaitLeadership();
      const entry = await node.propose(bytes('state'));
      let thrown: unknown = null;
      try {
        node.publishSnapshot({ throughIndex: entry.index, state: bytes('state') });
      } catch (error) {
        thrown = error;
      }
      await node.close();
      expect(thrown).toBeNull();
    });
  }
});

describe('transferLeadership target parity', () => {
  for (const [label, target] of [
    ['a symbol', Symbol('b')],
    ['an object', { id: 'b' }],
    ['a function', () => 'b'],
    ['the number 7', 7],
    ['undefined', undefined],
  ] as const) {
    it(`target ${label}: the worker node settles the same way as createRaftNode's`, async () => {
      const driver = await soloDriver();
      const { node } = await soloWorker();
      const outcome = async (on: RaftNode): Promise<string> => {
        await on.awaitLeadership();
        return errorName(await settledWithin(on.transferLeadership(target as unknown as string as never), 3_000));
      };
      const onDriver = await outcome(driver);
      const onWorker = await outcome(node);
      await Promise.all([driver.close(), node.close()]);
      expect({ target: label, onWorker }).toEqual({ target: label, onWorker: onDriver });
    });
  }
});
