// Review: the simulated network re-checks `cut(from, to)` when a frame arrives, and `cut` counts a
// sender that is down (crashed) as cut. So every frame a node had on the wire when it crashed is
// dropped, always (unless it restarted before the frame's arrival): a leader whose last
// AppendEntries reach some followers after it died, or a voter whose grant arrives after it died
// (the scenarios where a premature acknowledgement or an unsynced vote cost safety), never happen.
// A real network delivers what was already sent; only the sender's future frames stop.
import { describe, expect, it } from 'vitest';
import { nodeId, type RaftEnvelope } from '../core/types.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';

describe('frames in flight when their sender crashes (review)', () => {
  it('a frame sent before the sender went down still reaches its receiver', async () => {
    const clock = new VirtualClock(0);
    const network = createSimulatedNetwork(clock, seededRandom(1), reliableNetwork);
    const n1 = network.transport(nodeId('n1'));
    const n2 = network.transport(nodeId('n2'));
    const received: RaftEnvelope[] = [];
    n2.incoming.subscribe((envelope) => received.push(envelope));
    n1.send(nodeId('n2'), new Uint8Array([1, 2, 3]));
    // The sender loses power right after the frame left it (reliableNetwork: 1..3 ms in the air).
    network.setDown(nodeId('n1'), true);
    await clock.advance(10);
    expect(received.map((envelope) => [...envelope.bytes])).toEqual([[1, 2, 3]]);
  });
});
