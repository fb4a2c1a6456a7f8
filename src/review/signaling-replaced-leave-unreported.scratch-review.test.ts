// A holder replaced for answering no ping is neither a refusal (fail() skips 'replaced') nor a
// leave: the registry removes it before calling replace(), so finish()'s registry.leave() finds
// another member under the id and reports nothing. The CLI log shows two joins of the id and
// no leave, and the stats' joins - leaves no longer equals the peers present.
import { afterEach, describe, expect, it } from 'vitest';
import { connectRaw, joinOpen, type RawClient } from '../signaling/server/raw-client.test-support.ts';
import { startSignalingServer, type SignalingServer, type SignalingServerEvent } from '../signaling/server/index.ts';

let server: SignalingServer | null = null;
const raws: RawClient[] = [];

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.socket.terminate();
  await server?.close();
  server = null;
});

describe('a holder replaced for a missed ping', () => {
  it('is reported (a leave with reason replaced), so joins - leaves stays the number of peers', async () => {
    const events: SignalingServerEvent[] = [];
    server = await startSignalingServer({ port: 0, limits: { memberProbeTimeoutMs: 100 }, onEvent: (event) => events.push(event) });
    const a = await joinOpen(server.url, 'room', 'a');
    const old = await joinOpen(server.url, 'room', 'b'); // answers no ping
    raws.push(a, old);
    const fresh = await connectRaw(server.url);
    raws.push(fresh);
    fresh.send({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'b' });
    expect((await old.next('error')).code).toBe('replaced');
    await fresh.next('joined');
    const stats = server.stats();
    expect(stats.peers).toBe(2);
    expect(stats.joins - stats.leaves).toBe(stats.peers);
    expect(events.filter((event) => event.type === 'left')).toEqual([expect.objectContaining({ type: 'left', roomId: 'room', nodeId: 'b', reason: 'replaced' })]);
  });
});
