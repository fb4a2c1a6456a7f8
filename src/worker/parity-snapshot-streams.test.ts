// Committed streams across compaction: what the worker node's streams hand out equals what
// createRaftNode's do, item for item.
import { describe, expect, it } from 'vitest';
import type { Committed } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { bytes, soloDriver, soloWorker } from './parity.test-support.ts';

const describeItem = (item: Committed): string =>
  item.type === 'entry' ? `entry ${item.entry.index} ${new TextDecoder().decode(item.entry.command)}` : item.type === 'internal' ? `internal ${item.index}` : `install ${item.snapshot.throughIndex} ${new TextDecoder().decode(item.snapshot.state)}`;

async function collectThrough(iterable: AsyncIterable<Committed>, lastIndex: number): Promise<string[]> {
  const seen: string[] = [];
  for await (const item of iterable) {
    seen.push(describeItem(item));
    const index = item.type === 'entry' ? item.entry.index : item.type === 'internal' ? item.index : item.snapshot.throughIndex;
    if (index >= lastIndex) break;
  }
  return seen;
}

async function scenario(node: RaftNode): Promise<Record<string, string[] | number>> {
  await node.awaitLeadership();
  const slow = node.committedFrom(1)[Symbol.asyncIterator]();
  const slowFirst = await slow.next(); // open, then left behind
  for (let k = 0; k < 20; k += 1) await node.propose(bytes(`e${k}`));
  const applied = await collectThrough(node.committedFrom(1), 21);
  node.publishSnapshot({ throughIndex: 15, state: bytes('S15') });
  for (let k = 20; k < 25; k += 1) await node.propose(bytes(`e${k}`));
  const result: Record<string, string[] | number> = {
    applied,
    floor: node.compactionFloor.value,
    from1: await collectThrough(node.committedFrom(1), 26),
    from15: await collectThrough(node.committedFrom(15), 26),
    from16: await collectThrough(node.committedFrom(16), 26),
    from0: await collectThrough(node.committedFrom(0), 26),
  };
  const slowRest: string[] = [slowFirst.done === true ? 'done' : describeItem(slowFirst.value)];
  for (;;) {
    const next = await slow.next();
    if (next.done === true) break;
    slowRest.push(describeItem(next.value));
    if (slowRest.at(-1)!.startsWith('entry 26') ) break;
  }
  // The slow stream may legitimately hold entries it prefetched before the compaction (worker) or
  // start over with the install (createRaftNode): only no gap and no duplicate is compared.
  let next = 1;
  const gaps: string[] = [];
  for (const item of slowRest) {
    const [kind, index] = item.split(' ') as [string, string];
    const at = Number(index);
    if (kind === 'install' ? at < next : at !== next) gaps.push(`${item} where ${next} was next`);
    next = at + 1;
  }
  result.slowStreamGaps = gaps;
  result.slowStreamEnd = next;
  await slow.return?.();
  await node.close();
  return result;
}

describe('committed streams across a snapshot', () => {
  it('the worker node hands out the same items as createRaftNode', async () => {
    const onDriver = await scenario(await soloDriver());
    const onWorker = await scenario((await soloWorker()).node);
    expect(onWorker).toEqual(onDriver);
  });
});
