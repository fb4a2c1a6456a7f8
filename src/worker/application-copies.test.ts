// Guards: what a worker node hands the page's application has an ArrayBuffer of its own, as
// createRaftNode's does (src/driver/application-copies.ts). Entries cross from the worker in one
// transferred buffer per batch of events (event-records.ts, packed-bytes.ts), and the page built
// them as views into it: an application that transferred one entry's `command.buffer` detached
// every other entry of that batch, the ones it was given and the ones still buffered in its
// streams. The engine in the worker was never exposed (everything that crosses is a copy). Found
// while checking an outside review's finding on createRaftNode (2026-12-07, third session).
import { describe, expect, it } from 'vitest';
import type { Committed } from '../core/types.ts';
import { bytes, soloWorker } from './parity.test-support.ts';

const transferAway = (data: Uint8Array): void => {
  structuredClone(data, { transfer: [data.buffer as ArrayBuffer] });
};

const commandOf = (item: Committed | undefined): number[] | null => (item?.type === 'entry' ? Array.from(item.entry.command) : null);

describe('entries a worker node hands the application', () => {
  it('transferring one entry command buffer leaves the others of its batch intact', async () => {
    const { node, worker } = await soloWorker();
    await node.awaitLeadership();
    const stream = node.committed()[Symbol.asyncIterator]();
    // Proposed together: answered, and streamed, in one batch of events.
    const answers = await Promise.all(['one', 'two', 'three'].map((text) => node.propose(bytes(text))));
    transferAway(answers[0]!.command);
    expect(answers.slice(1).map((entry) => new TextDecoder().decode(entry.command))).toEqual(['two', 'three']);

    const items: Committed[] = [];
    while (items.filter((item) => item.type === 'entry').length < 3) items.push((await stream.next()).value as Committed);
    const entries = items.filter((item) => item.type === 'entry');
    transferAway((entries[1] as Extract<Committed, { type: 'entry' }>).entry.command);
    expect(commandOf(entries[0])).toEqual(Array.from(bytes('one')));
    expect(commandOf(entries[2])).toEqual(Array.from(bytes('three')));
    await node.close();
    worker.terminate();
  });
});
