// Guards the simulated network's fault model: a frame already on the wire when its sender goes
// down still reaches its receiver, as on a real network; only the receiver being down or the link
// being cut loses it. The network used to re-check "sender down" at arrival, so a leader's last
// AppendEntries or a voter's last grant never arrived after it crashed, and the scenarios where a
// premature acknowledgement or an unsynced vote costs safety never ran. An outside review found
// it (2026-12-07, third session).
import { describe, expect, it } from 'vitest';
import { nodeId, type RaftEnvelope } from '../core/types.ts';
import { seededRandom } from './seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from './simulated-network.ts';
import { VirtualClock } from './virtual-clock.ts';

function twoNodes() {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(1), reliableNetwork);
  const n1 = network.transport(nodeId('n1'));
  const n2 = network.transport(nodeId('n2'));
  const received: number[][] = [];
  n2.incoming.subscribe((envelope: RaftEnvelope) => received.push([...envelope.bytes]));
  return { clock, network, n1, received };
}

describe('frames in flight when a node goes down', () => {
  it('a frame sent before the sender went down still reaches its receiver', async () => {
    const { clock, network, n1, received } = twoNodes();
    n1.send(nodeId('n2'), new Uint8Array([1, 2, 3]));
    // The sender loses power right after the frame left it (reliableNetwork: 1..3 ms in the air).
    network.setDown(nodeId('n1'), true);
    await clock.advance(10);
    expect(received).toEqual([[1, 2, 3]]);
  });

  it('a frame whose receiver is down when it arrives is lost; one sent by a node already down is never sent', async () => {
    const { clock, network, n1, received } = twoNodes();
    n1.send(nodeId('n2'), new Uint8Array([1]));
    network.setDown(nodeId('n2'), true);
    await clock.advance(10);
    network.setDown(nodeId('n2'), false);
    network.setDown(nodeId('n1'), true);
    n1.send(nodeId('n2'), new Uint8Array([2]));
    await clock.advance(10);
    expect(received).toEqual([]);
  });

  it('a frame on a link cut while it was in the air is lost', async () => {
    const { clock, network, n1, received } = twoNodes();
    n1.send(nodeId('n2'), new Uint8Array([1]));
    network.blockOneWay(nodeId('n1'), nodeId('n2'));
    await clock.advance(10);
    expect(received).toEqual([]);
  });
});
