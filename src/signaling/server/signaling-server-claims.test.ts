// Claimed node ids at the server (node-claim.ts): in an open room, anyone who is shown a member's
// id could hold it while the member was away, and the member was then refused with
// `member-in-use` for as long as they stayed. A claimed id is admitted only with its claim.
// Black box: bare `ws` sockets and the public client.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createWebSocketSignalingClient, type WebSocketConstructor } from '../../webrtc.ts';
import { terminalErrorCodes } from '../messages.ts';
import { nodeId } from '../../index.ts';
import { claimedNodeId, mintNodeClaim } from '../node-claim.ts';
import { openBare, type BareSocket } from './bare-socket.test-support.ts';
import { startSignalingServer, type SignalingServer, type SignalingServerEvent, type SignalingServerOptions } from './index.ts';
import { deriveAdmissionKey, importAdmissionKey, computeAdmissionProof } from '../admission.ts';

let server: SignalingServer | null = null;
const sockets: BareSocket[] = [];

async function start(options: Partial<SignalingServerOptions> = {}): Promise<SignalingServer> {
  server = await startSignalingServer({ port: 0, ...options });
  return server;
}

async function hello(url: string, roomId: string, id: string, claim?: string): Promise<BareSocket> {
  const bare = await openBare(url);
  sockets.push(bare);
  bare.send({ type: 'hello', protocol: 1, roomId, nodeId: id, ...(claim === undefined ? {} : { claim }) });
  return bare;
}

function claimed(): { id: string; claim: string } {
  const claim = mintNodeClaim();
  return { id: claimedNodeId(claim), claim };
}

afterEach(async () => {
  for (const bare of sockets.splice(0)) bare.socket.terminate();
  await server?.close();
  server = null;
});

describe('a claimed node id in an open room', () => {
  it('cannot be held by someone who only saw it, while its member is away; the member comes back under it', async () => {
    const events: SignalingServerEvent[] = [];
    const { url } = await start({ onEvent: (event) => events.push(event) });
    const member = claimed();
    const watcher = await hello(url, 'open', 'watcher');
    await watcher.next('joined');
    const first = await hello(url, 'open', member.id, member.claim);
    await first.next('joined');
    expect(await watcher.next('peer-joined')).toMatchObject({ nodeId: member.id }); // everyone sees the id
    first.socket.close();
    expect(await watcher.next('peer-left')).toMatchObject({ nodeId: member.id });

    const withoutClaim = await hello(url, 'open', member.id);
    expect(await withoutClaim.next('error')).toMatchObject({ code: 'claim-refused' });
    expect(await withoutClaim.closed).toBe(1008);
    const withAnotherClaim = await hello(url, 'open', member.id, claimed().claim);
    expect(await withAnotherClaim.next('error')).toMatchObject({ code: 'claim-refused', message: expect.stringMatching(/a claim of another id/) });
    expect(await withAnotherClaim.closed).toBe(1008);

    const back = await hello(url, 'open', member.id, member.claim);
    expect(await back.next('joined')).toMatchObject({ nodeId: member.id, peers: ['watcher'] });
    const refusals = events.filter((event) => event.type === 'refused');
    expect(refusals.map((event) => event.type === 'refused' && event.code)).toEqual(['claim-refused', 'claim-refused']);
    // Reported with the id asked for, never with the claim.
    expect(JSON.stringify(events)).not.toContain(member.claim);
    expect(server?.stats()).toMatchObject({ peers: 2 });
  });

  it('is refused to a newcomer without its claim at once, with no ping to the member that holds it', async () => {
    const { url } = await start();
    const member = claimed();
    const holder = await hello(url, 'open', member.id, member.claim);
    await holder.next('joined');
    const squatter = await hello(url, 'open', member.id);
    expect(await squatter.next('error')).toMatchObject({ code: 'claim-refused' });
    await squatter.closed;
    expect(holder.messages.map((message) => message.type)).toEqual(['joined']);
  });

  it('with its claim, still goes through the liveness probe of a live holder (no two sockets take turns at one id)', async () => {
    const { url } = await start({ limits: { memberProbeTimeoutMs: 200, handshakeTimeoutMs: 2_000 } });
    const member = claimed();
    const holder = await hello(url, 'open', member.id, member.claim);
    await holder.next('joined');
    let answering = true;
    holder.socket.on('message', (data) => {
      if (answering && JSON.parse(String(data)).type === 'ping') holder.send({ type: 'pong' });
    });
    const second = await hello(url, 'open', member.id, member.claim);
    expect(await second.next('error')).toMatchObject({ code: 'member-in-use' });
    // A holder that falls silent is a half-open socket: replaced, as for any id (once its last
    // answer is older than the probe timeout, within which the server trusts it without asking).
    answering = false;
    await new Promise((resolve) => setTimeout(resolve, 250));
    const third = await hello(url, 'open', member.id, member.claim);
    expect(await holder.next('error')).toMatchObject({ code: 'replaced' });
    expect(await third.next('joined')).toMatchObject({ nodeId: member.id });
  });

  it('an unclaimed id (the older peer-<16 hex>, or a name) is admitted without a claim, as before, and a claim sent for it is ignored', async () => {
    const { url } = await start();
    const legacy = await hello(url, 'open', 'peer-0123456789abcdef');
    await legacy.next('joined');
    const named = await hello(url, 'open', 'alice', mintNodeClaim());
    await named.next('joined');
  });

  it('a hello whose claim is not 64 lowercase hex digits is malformed', async () => {
    const { url } = await start();
    const member = claimed();
    for (const claim of ['', member.claim.toUpperCase(), `${member.claim}0`, 42]) {
      const bare = await openBare(url);
      sockets.push(bare);
      bare.send({ type: 'hello', protocol: 1, roomId: 'open', nodeId: member.id, claim });
      expect(await bare.next('error')).toMatchObject({ code: 'malformed' });
    }
  });
});

describe('a claimed node id in a room with a secret', () => {
  it('is checked after admission: a wrong secret hears admission-refused, the right secret without the claim claim-refused', async () => {
    const { url } = await start({ rooms: { team: { secret: 'the secret' } } });
    const member = claimed();
    const answer = async (socket: BareSocket, secret: string): Promise<void> => {
      const { message } = { message: await socket.next('challenge') } as { message: { nonce?: string } };
      const key = await importAdmissionKey(await deriveAdmissionKey(secret, 'team'));
      socket.send({ type: 'challenge-response', proof: await computeAdmissionProof(key, { roomId: 'team', nodeId: member.id, nonce: String(message.nonce) }) });
    };
    const wrongSecret = await hello(url, 'team', member.id);
    await answer(wrongSecret, 'not it');
    expect(await wrongSecret.next('error')).toMatchObject({ code: 'admission-refused' });
    const noClaim = await hello(url, 'team', member.id);
    await answer(noClaim, 'the secret');
    expect(await noClaim.next('error')).toMatchObject({ code: 'claim-refused' });
    const proper = await hello(url, 'team', member.id, member.claim);
    await answer(proper, 'the secret');
    expect(await proper.next('joined')).toMatchObject({ nodeId: member.id });
  });
});

describe('the public client and claims', () => {
  const options = (url: string, id: string) => ({ url, roomId: 'open', nodeId: nodeId(id), WebSocket: WebSocket as unknown as WebSocketConstructor, limits: { reconnectDelayMinMs: 10, reconnectDelayMaxMs: 20 } });

  it('refuses to start for a claimed id without its claim, saying where the claim comes from', async () => {
    const member = claimed();
    expect(() => createWebSocketSignalingClient(options('ws://127.0.0.1:1', member.id))).toThrow(/claimed id.*spread the context, or pass context\.claim/);
    expect(() => createWebSocketSignalingClient({ ...options('ws://127.0.0.1:1', member.id), claim: 'nope' })).toThrow(RangeError);
  });

  it('joins with its claim; refuses to start with the claim of another id, which the server would refuse for good', async () => {
    const events: SignalingServerEvent[] = [];
    const { url } = await start({ onEvent: (event) => events.push(event) });
    const member = claimed();
    const client = createWebSocketSignalingClient({ ...options(url, member.id), claim: member.claim });
    await new Promise<void>((resolve) => client.status.subscribe((status) => status === 'joined' && resolve()));
    client.close();
    expect(await client.closed).toBeNull();
    expect(() => createWebSocketSignalingClient({ ...options(url, member.id), claim: claimed().claim })).toThrow(/not the claim of node id/);
    // Were a client to send one anyway, the refusal is one reconnecting cannot mend.
    expect(terminalErrorCodes.has('claim-refused')).toBe(true);
    expect(events.filter((event) => event.type === 'refused')).toHaveLength(0);
  });

  it('against a server from before claims, which refuses the field as malformed, joins without the claim instead of stopping for good', async () => {
    // The old server: a strict parser that knows no claim field.
    const old = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => old.once('listening', () => resolve()));
    const hellos: Record<string, unknown>[] = [];
    old.on('connection', (socket) => {
      socket.on('message', (data) => {
        const hello = JSON.parse(String(data)) as Record<string, unknown>;
        if (hello['type'] !== 'hello') return;
        hellos.push(hello);
        if ('claim' in hello) {
          socket.send(JSON.stringify({ type: 'error', code: 'malformed', message: 'unexpected field "claim" in hello' }));
          socket.close(1008, 'malformed');
        } else socket.send(JSON.stringify({ type: 'joined', roomId: 'open', nodeId: hello['nodeId'], peers: [] }));
      });
    });
    try {
      const member = claimed();
      const address = old.address() as { port: number };
      const client = createWebSocketSignalingClient({ ...options(`ws://127.0.0.1:${address.port}`, member.id), claim: member.claim });
      await new Promise<void>((resolve) => client.status.subscribe((status) => status === 'joined' && resolve()));
      expect(hellos.map((hello) => 'claim' in hello)).toEqual([true, false]);
      client.close();
      expect(await client.closed).toBeNull();
    } finally {
      await new Promise((resolve) => old.close(resolve));
    }
  });
});
