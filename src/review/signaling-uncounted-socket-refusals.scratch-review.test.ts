// Frames that `ws` itself refuses (invalid UTF-8 in a text frame, an unmasked client frame, a
// reserved opcode) close the socket with 1002/1007, but the server only counts ws's own 1009 cut
// (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH) as a refusal: the others are no refusal in stats or events,
// and a joined client cut for one is logged as an ordinary leave. The same for a client cut off
// for not reading (maxBufferedBytes): socket.terminate(), logged as 'left ... disconnected'.
import { afterEach, describe, expect, it } from 'vitest';
import { joinOpen, type RawClient } from '../signaling/server/raw-client.test-support.ts';
import { startSignalingServer, type SignalingServer, type SignalingServerEvent } from '../signaling/server/index.ts';
import { openRawTcp, waitFor, type RawTcp } from './signaling-raw-frames.test-support.ts';

let server: SignalingServer | null = null;
const raws: RawTcp[] = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  for (const client of clients.splice(0)) client.socket.terminate();
  await server?.close();
  server = null;
});

describe('a frame ws refuses at the protocol level', () => {
  const cases: Array<[string, (raw: RawTcp) => void]> = [
    ['a text frame that is not UTF-8', (raw) => raw.writeFrame(0x1, Buffer.from([0xff, 0xfe, 0x7b]))],
    ['an unmasked client frame', (raw) => raw.writeFrame(0x1, Buffer.from('{"type":"ping"}'), { masked: false })],
    ['a reserved opcode', (raw) => raw.writeFrame(0x3, Buffer.from('x'))],
  ];
  for (const [name, write] of cases) {
    it(`(${name}) from a joined client is a counted refusal, reported as such, not a plain leave`, async () => {
      const events: SignalingServerEvent[] = [];
      server = await startSignalingServer({ port: 0, onEvent: (event) => events.push(event) });
      const raw = await openRawTcp(server.port);
      raws.push(raw);
      raw.writeFrame(0x1, Buffer.from(JSON.stringify({ type: 'hello', protocol: 1, roomId: 'room', nodeId: 'mallory' })));
      expect(await waitFor(() => raw.answered().includes('"joined"'), 5_000)).toBe(true);
      write(raw);
      expect(await waitFor(() => server?.stats().connections === 0, 5_000)).toBe(true);
      expect(events.filter((event) => event.type === 'refused')).toEqual([expect.objectContaining({ type: 'refused', roomId: 'room', nodeId: 'mallory' })]);
      expect(server.stats().refusals).toBe(1);
    });
  }

  it('(a text frame that is not UTF-8) before any hello is a counted refusal too', async () => {
    const events: SignalingServerEvent[] = [];
    server = await startSignalingServer({ port: 0, onEvent: (event) => events.push(event) });
    const raw = await openRawTcp(server.port);
    raws.push(raw);
    raw.writeFrame(0x1, Buffer.from([0xc3, 0x28]));
    expect(await waitFor(() => server?.stats().connections === 0, 5_000)).toBe(true);
    expect(server.stats().refusals).toBe(1);
    expect(events).toEqual([expect.objectContaining({ type: 'refused' })]);
  });
});

describe('a client cut off for not reading (maxBufferedBytes)', () => {
  it('is a counted refusal, reported as such', async () => {
    const events: SignalingServerEvent[] = [];
    server = await startSignalingServer({ port: 0, limits: { maxBufferedBytes: 64 * 1024, messagesPerSecond: 100_000, messageBurst: 100_000 }, onEvent: (event) => events.push(event) });
    const sender = await joinOpen(server.url, 'room', 'sender');
    const sleeper = await joinOpen(server.url, 'room', 'sleeper');
    clients.push(sender, sleeper);
    await sender.next('peer-joined');
    sleeper.socket.pause();
    let left = false;
    void sender.next('peer-left').then(() => (left = true));
    const payload = 'x'.repeat(32 * 1024);
    for (let round = 0; round < 200 && !left; round++) {
      for (let index = 0; index < 20; index++) sender.send({ type: 'signal', to: 'sleeper', payload });
      sender.send({ type: 'ping' });
      await sender.next('pong');
    }
    expect(left).toBe(true);
    expect(events.filter((event) => event.type === 'left')).toEqual([expect.objectContaining({ nodeId: 'sleeper' })]);
    expect(events.filter((event) => event.type === 'refused')).toEqual([expect.objectContaining({ type: 'refused', roomId: 'room', nodeId: 'sleeper' })]);
    expect(server.stats().refusals).toBe(1);
  });
});
