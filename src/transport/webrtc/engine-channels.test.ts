// The engine channels of one session (engine-channels.ts) driven directly, without connections or
// a handshake: fake channel pairs, a host that records what it is posted (and may refuse a
// transfer, as a runtime that cannot transfer channels does), the texts this side sends on
// channel 0, and the pairs the page keeps. Also the texts themselves (data-channel-hand-off.ts):
// what a page of another version or a handshake sends must never parse as one of ours.
// Over fake connections and two transports: data-channel-hand-off.test.ts and its neighbours.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../../core/types.ts';
import { VirtualClock } from '../../testing/virtual-clock.ts';
import { createCounters } from './counters.ts';
import {
  encodeEngineChannelText,
  engineChannelsAnnouncement,
  engineChannelsWithdrawal,
  parseEngineChannelText,
  type DataChannelHandOff,
  type DataChannelHost,
  type EngineChannelText,
} from './data-channel-hand-off.ts';
import { createEngineChannels } from './engine-channels.ts';
import { FakeChannel } from './fake-connection.test-support.ts';
import { defaultWebRtcTransportLimits, handOffLimits } from './limits.ts';
import { engineChannelIds, type EnginePair } from './peer-connection.ts';

const maxGeneration = handOffLimits.maxEngineChannelGenerations;
const peerId = nodeId('b');
const sessionId = 'session-1';

interface FakePair {
  readonly control: FakeChannel;
  readonly bulk: FakeChannel;
}
const fakePair = (): FakePair => ({ control: new FakeChannel(), bulk: new FakeChannel() });

/** One log for everything that happens, so tests can check the order across texts, posts and pairs. */
type Events = string[];

/** A host recording what it is posted; with `refuse`, it throws on channels as a runtime that cannot transfer them. */
function recordingHost(events: Events, label: string, options: { readonly refuse?: boolean } = {}) {
  const posted: Array<{ readonly message: DataChannelHandOff; readonly transfer: readonly Transferable[] }> = [];
  const host: DataChannelHost = {
    post(message, transfer) {
      if (options.refuse === true && message.type === 'dataChannels') throw new Error('DataCloneError: RTCDataChannel is not transferable here');
      posted.push({ message, transfer });
      events.push(`${label} ${message.type} ${message.session}`);
    },
  };
  const ofType = <Type extends DataChannelHandOff['type']>(type: Type) => posted.map(({ message }) => message).filter((message): message is Extract<DataChannelHandOff, { type: Type }> => message.type === type);
  return { host, posted, ofType, states: () => ofType('dataChannelsState').map(({ session, deliver, send }) => [session, deliver, send]) };
}
type RecordingHost = ReturnType<typeof recordingHost>;

/** Engine channels of one session, with `attached` as the host attached now (changeable). */
function engineChannelsOf(options: { readonly initiator: boolean; readonly attached?: RecordingHost | null; readonly events?: Events; readonly framesQueuedWhenStopped?: number }) {
  const events: Events = options.events ?? [];
  const counters = createCounters();
  const clock = new VirtualClock();
  const first = fakePair();
  const opened: Array<{ readonly generation: number; readonly pair: FakePair }> = [];
  const kept: Array<{ readonly pair: EnginePair; stops: number }> = [];
  const texts: string[] = [];
  const calls = { peerListens: 0, failures: 0, hostReads: 0 };
  const state = { attached: options.attached ?? null, refuseToOpen: false, sendClosesSession: false };
  const channels = createEngineChannels(
    {
      peerId,
      sessionId,
      initiator: options.initiator,
      limits: defaultWebRtcTransportLimits,
      counters,
      clock,
      host: () => {
        calls.hostReads++;
        return state.attached?.host ?? null;
      },
      openPair: (generation) => {
        if (state.refuseToOpen) throw new Error('InvalidStateError: the connection is closing');
        const pair = fakePair();
        opened.push({ generation, pair });
        events.push(`openPair ${generation}`);
        return pair;
      },
      keep: (pair) => {
        const record = { pair, stops: 0 };
        kept.push(record);
        events.push('keep');
        return () => {
          record.stops++;
          return options.framesQueuedWhenStopped ?? 0;
        };
      },
      sendText: (text) => {
        texts.push(text);
        events.push(`text ${text}`);
        // As the session does when channel 0 refuses a send: it closes, and this with it.
        if (state.sendClosesSession) channels.close();
      },
      onPeerListens: () => calls.peerListens++,
      onFailure: (reason) => {
        calls.failures++;
        events.push(`failure ${reason}`);
      },
    },
    first,
  );
  return {
    channels,
    counters,
    clock,
    first,
    opened,
    kept,
    texts,
    events,
    calls,
    /** What this side said on channel 0, parsed. */
    said: (): Array<EngineChannelText | null> => texts.map(parseEngineChannelText),
    attach: (host: RecordingHost | null) => (state.attached = host),
    /** The connection throws from now on when asked for a pair. */
    refuseToOpen: () => (state.refuseToOpen = true),
    /** Channel 0 fails from now on: every text closes the session. */
    failSends: () => (state.sendClosesSession = true),
  };
}

const named = (generation: number): string => (generation === 0 ? sessionId : `${sessionId}/${generation}`);
const listening = (generation: number): EngineChannelText => ({ type: 'listening', generation });
const open = (generation: number): EngineChannelText => ({ type: 'open', generation });
const request = (generation: number): EngineChannelText => ({ type: 'request', generation });
const withdrawn: EngineChannelText = { type: 'withdrawn' };

describe('engine channel texts', () => {
  const every = [0, 1, maxGeneration].flatMap((generation): EngineChannelText[] => [listening(generation), open(generation), request(generation)]).concat([withdrawn]);
  for (const text of every) {
    it(`${JSON.stringify(text)} survives encoding and parsing`, () => {
      const encoded = encodeEngineChannelText(text);
      expect(parseEngineChannelText(encoded)).toEqual(text);
    });
  }

  it('listening on generation 0 and withdrawing are the exact texts earlier builds compare against', () => {
    expect(encodeEngineChannelText(listening(0))).toBe(engineChannelsAnnouncement);
    expect(engineChannelsAnnouncement).toBe('{"type":"engine-channels"}');
    expect(encodeEngineChannelText(withdrawn)).toBe(engineChannelsWithdrawal);
    expect(engineChannelsWithdrawal).toBe('{"type":"engine-channels-withdrawn"}');
  });

  it('later generations are spelled the same way by every build (both sides must agree)', () => {
    expect(encodeEngineChannelText(listening(1))).toBe('{"type":"engine-channels","generation":1}');
    expect(encodeEngineChannelText(open(2))).toBe('{"type":"engine-channels-open","generation":2}');
    expect(encodeEngineChannelText(request(3))).toBe('{"type":"engine-channels-request","generation":3}');
  });

  it('a long text is not parsed, even one that would be ours if it were shorter', () => {
    const padded = (length: number): string => `{"type":"engine-channels-open","generation":1,"padding":"${'x'.repeat(length)}"}`;
    const longest = padded(80 - padded(0).length);
    expect(longest).toHaveLength(80);
    expect(parseEngineChannelText(longest)).toEqual(open(1));
    expect(parseEngineChannelText(padded(81 - padded(0).length))).toBeNull();
  });

  const notOurs: ReadonlyArray<readonly [string, string]> = [
    ['an empty text', ''],
    ['not JSON', '{"type":"engine-channels-open","generation":1'],
    ['JSON of another engine-channels type', '{"type":"engine-channels-close","generation":1}'],
    ['a type that merely starts like ours', '{"type":"engine-channelsX","generation":1}'],
    ['no generation', '{"type":"engine-channels-open"}'],
    ['a null generation', '{"type":"engine-channels-request","generation":null}'],
    ['a negative generation', '{"type":"engine-channels-open","generation":-1}'],
    ['a fractional generation', '{"type":"engine-channels-open","generation":1.5}'],
    ['a generation past the limit', `{"type":"engine-channels-open","generation":${maxGeneration + 1}}`],
    ['a huge generation', '{"type":"engine-channels","generation":1e300}'],
    ['a generation as a string', '{"type":"engine-channels-request","generation":"1"}'],
    // A withdrawal names no generation: only the exact text of 0.3 is one (a later version's
    // withdrawal of one generation is not ours to guess at).
    ['a withdrawal naming a generation', '{"type":"engine-channels-withdrawn","generation":1}'],
    ['a handshake acceptance', '{"type":"auth-accepted"}'],
    ['a handshake-like message naming a generation', '{"type":"hello","generation":1,"nodeId":"a"}'],
    ['JSON null', 'null'],
  ];
  for (const [what, text] of notOurs) {
    it(`parses nothing from ${what}`, () => {
      expect(parseEngineChannelText(text)).toBeNull();
    });
  }

  it('generation g uses stream ids 2g+2 and 2g+3, so the last generation stays below 514', () => {
    expect([0, 1, 2, maxGeneration].map(engineChannelIds)).toEqual([
      { control: 2, bulk: 3 },
      { control: 4, bulk: 5 },
      { control: 6, bulk: 7 },
      { control: 2 * maxGeneration + 2, bulk: 2 * maxGeneration + 3 },
    ]);
    expect(engineChannelIds(maxGeneration).bulk).toBeLessThanOrEqual(513);
  });
});

describe('engine channels: the first pair', () => {
  it('goes to the attached host in the creating call, named by the session, and is announced once the worker took it after ready', () => {
    const events: Events = [];
    const host = recordingHost(events, 'host');
    const side = engineChannelsOf({ initiator: true, attached: host });
    expect(host.posted).toEqual([
      { message: { type: 'dataChannels', peer: peerId, session: sessionId, control: side.first.control, bulk: side.first.bulk, limits: defaultWebRtcTransportLimits }, transfer: [side.first.control, side.first.bulk] },
    ]);
    expect([side.channels.offeredTo, side.counters.dataChannelsHandedOver, side.kept.length]).toEqual([host.host, 1, 0]);
    // Taken before ready: nothing is said during the handshake (a peer of 0.2 would fail on it).
    side.channels.taken(host.host, sessionId);
    expect(side.texts).toEqual([]);
    side.channels.becomeReady();
    expect(side.texts).toEqual([engineChannelsAnnouncement]);
    expect(host.states()).toEqual([[sessionId, true, false]]);
    side.channels.becomeReady();
    side.channels.taken(host.host, sessionId);
    expect(side.texts).toEqual([engineChannelsAnnouncement]);
  });

  it('is kept here when the host cannot take it (offered to it all the same), and announced as soon as ready', () => {
    const events: Events = [];
    const refusing = recordingHost(events, 'host', { refuse: true });
    const side = engineChannelsOf({ initiator: false, attached: refusing });
    expect(side.kept.map(({ pair }) => pair)).toEqual([side.first]);
    expect([side.channels.offeredTo, side.counters.dataChannelsHandedOver, refusing.posted.length]).toEqual([refusing.host, 0, 0]);
    side.channels.becomeReady();
    expect(side.texts).toEqual([engineChannelsAnnouncement]);
  });

  it('is kept here when no host is attached', () => {
    const side = engineChannelsOf({ initiator: true });
    expect([side.kept.map(({ pair }) => pair), side.channels.offeredTo]).toEqual([[side.first], null]);
  });
});

describe('engine channels: the initiator renewing', () => {
  it('opens nothing before the session is ready', () => {
    const side = engineChannelsOf({ initiator: true, attached: recordingHost([], 'host') });
    expect(side.channels.renew()).toBe('not-ready');
    expect([side.opened, side.texts, side.counters.engineChannelsReopened]).toEqual([[], [], 0]);
  });

  it('opens the next pair, says so before handing it over, lets the previous holder go, and hands it to the host attached now', () => {
    // The first pair was created with no host attached: kept here.
    const side = engineChannelsOf({ initiator: true });
    side.channels.becomeReady();
    const second = recordingHost(side.events, 'second');
    side.attach(second);
    side.events.length = 0;
    expect(side.channels.renew()).toBe('renewing');
    const [opened] = side.opened;
    expect(side.events).toEqual(['openPair 1', `text ${encodeEngineChannelText(open(1))}`, `second dataChannels ${named(1)}`, `second dataChannelsState ${named(1)}`]);
    expect(second.ofType('dataChannels')).toMatchObject([{ session: named(1), control: opened?.pair.control, bulk: opened?.pair.bulk }]);
    expect(side.kept[0]?.stops).toBe(1);
    expect([side.channels.offeredTo, side.counters.engineChannelsReopened, side.counters.dataChannelsHandedOver]).toEqual([second.host, 1, 1]);

    // The worker holding generation 1 is told to let go of it when generation 2 replaces it.
    const third = recordingHost(side.events, 'third');
    side.attach(third);
    side.events.length = 0;
    expect(side.channels.renew()).toBe('renewing');
    expect(side.events).toEqual(['openPair 2', `second dataChannelsClosed ${named(1)}`, `text ${encodeEngineChannelText(open(2))}`, `third dataChannels ${named(2)}`, `third dataChannelsState ${named(2)}`]);
    expect(second.ofType('dataChannelsClosed')).toEqual([{ type: 'dataChannelsClosed', peer: peerId, session: named(1) }]);
    expect(side.counters.engineChannelsReopened).toBe(2);
  });

  it('with a pair kept here: stops it (counting its frames) and says open before it announces the new one', () => {
    const side = engineChannelsOf({ initiator: true, framesQueuedWhenStopped: 3 });
    side.channels.becomeReady();
    expect(side.texts).toEqual([engineChannelsAnnouncement]);
    side.events.length = 0;
    expect(side.channels.renew()).toBe('renewing');
    expect(side.events).toEqual(['openPair 1', `text ${encodeEngineChannelText(open(1))}`, 'keep', `text ${encodeEngineChannelText(listening(1))}`]);
    expect(side.kept.map(({ pair, stops }) => [pair, stops])).toEqual([
      [side.first, 1],
      [side.opened[0]?.pair, 0],
    ]);
    expect(side.counters.framesDroppedOnDisconnect).toBe(3);
  });

  it(`opens ${maxGeneration} pairs on one connection, then no more`, () => {
    const side = engineChannelsOf({ initiator: true });
    side.channels.becomeReady();
    for (let generation = 1; generation <= maxGeneration; generation++) expect(side.channels.renew()).toBe('renewing');
    const texts = side.texts.length;
    expect(side.channels.renew()).toBe('out-of-generations');
    expect(side.opened.map(({ generation }) => generation)).toEqual(Array.from({ length: maxGeneration }, (_, index) => index + 1));
    expect([side.texts.length, side.counters.engineChannelsReopened, side.calls.failures]).toEqual([texts, maxGeneration, 0]);
  });
});

describe('engine channels: a connection that cannot create a pair', () => {
  it('the initiator keeps its pair, says nothing, and has the session closed', () => {
    const events: Events = [];
    const holder = recordingHost(events, 'holder');
    const side = engineChannelsOf({ initiator: true, attached: holder, events });
    side.channels.becomeReady();
    side.channels.taken(holder.host, sessionId);
    side.refuseToOpen();
    side.texts.length = 0;
    side.events.length = 0;
    expect(side.channels.renew()).toBe('renewing');
    expect(side.calls.failures).toBe(1);
    expect(side.events).toEqual(['failure could not create engine channels of generation 1: InvalidStateError: the connection is closing']);
    expect([side.texts, side.counters.engineChannelsReopened, side.channels.offeredTo]).toEqual([[], 0, holder.host]);
  });

  it('the initiator whose open cannot be sent hands the new pair to nobody (it goes down with the connection)', () => {
    const events: Events = [];
    const holder = recordingHost(events, 'holder');
    const side = engineChannelsOf({ initiator: true, attached: holder, events });
    side.channels.becomeReady();
    const next = recordingHost(side.events, 'next');
    side.attach(next);
    side.failSends();
    expect(side.channels.renew()).toBe('renewing');
    expect(next.ofType('dataChannels')).toEqual([]);
    expect(side.kept).toEqual([]);
  });

  it('the answerer keeps its pair and has the session closed, rather than disagree on the generation', () => {
    const side = engineChannelsOf({ initiator: false });
    side.channels.becomeReady();
    side.refuseToOpen();
    side.events.length = 0;
    side.texts.length = 0;
    side.channels.receiveText(open(1));
    expect([side.calls.failures, side.kept[0]?.stops, side.texts, side.counters.engineChannelsReopened]).toEqual([1, 0, [], 0]);
    // The generation did not move: the same open, once the connection can, is still taken.
    side.channels.receiveText(open(1));
    expect(side.calls.failures).toBe(2);
  });
});

describe('engine channels: the answerer renewing', () => {
  it('asks once per generation, naming the one it has', () => {
    const side = engineChannelsOf({ initiator: false });
    expect(side.channels.renew()).toBe('not-ready');
    expect(side.texts).toEqual([]);
    side.channels.becomeReady();
    side.texts.length = 0;
    expect(side.channels.renew()).toBe('renewing');
    expect(side.channels.renew()).toBe('renewing');
    expect(side.said()).toEqual([request(0)]);
    expect(side.opened).toEqual([]);
  });

  it('creates the pair the initiator opened (jumps included), for the host attached when it arrives, and then may ask again', () => {
    const events: Events = [];
    const asked = recordingHost(events, 'asked');
    const side = engineChannelsOf({ initiator: false, attached: asked, events });
    side.channels.becomeReady();
    expect(side.channels.renew()).toBe('renewing');
    expect(side.said()).toEqual([request(0)]);
    // Another worker attached while the request was on its way: the pair is for this one.
    const now = recordingHost(side.events, 'now');
    side.attach(now);
    side.texts.length = 0;
    side.events.length = 0;
    side.channels.receiveText(open(3));
    const [opened] = side.opened;
    expect(side.events).toEqual(['openPair 3', `asked dataChannelsClosed ${sessionId}`, `now dataChannels ${named(3)}`, `now dataChannelsState ${named(3)}`]);
    expect(now.ofType('dataChannels')).toMatchObject([{ session: named(3), control: opened?.pair.control, bulk: opened?.pair.bulk }]);
    expect(asked.ofType('dataChannels').map(({ session }) => session)).toEqual([sessionId]);
    expect([side.texts, side.channels.offeredTo, side.counters.engineChannelsReopened]).toEqual([[], now.host, 1]);
    expect(side.channels.renew()).toBe('renewing');
    expect(side.said()).toEqual([request(3)]);
  });

  it('ignores an open of the generation it has or an older one', () => {
    const side = engineChannelsOf({ initiator: false });
    side.channels.becomeReady();
    side.channels.receiveText(open(0));
    expect(side.opened).toEqual([]);
    side.channels.receiveText(open(2));
    side.channels.receiveText(open(2));
    side.channels.receiveText(open(1));
    expect(side.opened.map(({ generation }) => generation)).toEqual([2]);
    expect(side.kept.map(({ stops }) => stops)).toEqual([1, 0]);
  });

  it('has nothing to ask for at the last generation (the connection is renewed instead)', () => {
    const side = engineChannelsOf({ initiator: false });
    side.channels.becomeReady();
    side.channels.receiveText(open(maxGeneration));
    side.texts.length = 0;
    expect(side.channels.renew()).toBe('out-of-generations');
    expect(side.texts).toEqual([]);
  });

  it('ignores a request: only the initiator opens pairs', () => {
    const side = engineChannelsOf({ initiator: false });
    side.channels.becomeReady();
    side.texts.length = 0;
    side.channels.receiveText(request(0));
    expect([side.opened, side.texts, side.calls.failures]).toEqual([[], [], 0]);
  });
});

describe('engine channels: the initiator answering a request', () => {
  it('opens the next pair for a request naming its generation, for the host it has now', () => {
    const side = engineChannelsOf({ initiator: true });
    const host = recordingHost(side.events, 'host');
    side.attach(host);
    side.channels.becomeReady();
    side.texts.length = 0;
    side.channels.receiveText(request(0));
    expect(side.said()).toEqual([open(1)]);
    expect(host.ofType('dataChannels').map(({ session }) => session)).toEqual([named(1)]);
    expect(side.counters.engineChannelsReopened).toBe(1);
  });

  it('does nothing for a request naming an older generation: a newer pair is on its way', () => {
    const side = engineChannelsOf({ initiator: true });
    side.channels.becomeReady();
    side.channels.renew();
    side.texts.length = 0;
    side.channels.receiveText(request(0));
    expect([side.opened.length, side.texts, side.calls.failures]).toEqual([1, [], 0]);
  });

  it('ignores a request when no generation is left (an answerer at the last one asks through signaling)', () => {
    const side = engineChannelsOf({ initiator: true });
    side.channels.becomeReady();
    for (let generation = 1; generation <= maxGeneration; generation++) side.channels.renew();
    side.texts.length = 0;
    side.channels.receiveText(request(maxGeneration));
    expect([side.calls.failures, side.opened.length, side.texts]).toEqual([0, maxGeneration, []]);
  });

  it('ignores an open: it allocates generations itself', () => {
    const side = engineChannelsOf({ initiator: true });
    side.channels.becomeReady();
    side.texts.length = 0;
    side.channels.receiveText(open(1));
    expect([side.opened, side.texts, side.kept.map(({ stops }) => stops)]).toEqual([[], [], [0]]);
    // Its own next generation is still 1.
    side.channels.renew();
    expect(side.opened.map(({ generation }) => generation)).toEqual([1]);
  });
});

describe('engine channels: when the worker may send', () => {
  it('only while the peer announced exactly the generation this side holds, after ready', () => {
    const host = recordingHost([], 'host');
    const side = engineChannelsOf({ initiator: true, attached: host });
    expect(side.channels.peerAnnounced).toBe(false);
    // Texts are taken before ready too; they change what the worker may do only once ready.
    side.channels.receiveText(listening(0));
    expect([host.states(), side.calls.peerListens, side.channels.peerAnnounced]).toEqual([[], 1, true]);
    side.channels.becomeReady();
    expect(host.states()).toEqual([[sessionId, true, true]]);
    side.channels.receiveText(withdrawn);
    expect(host.states()).toEqual([
      [sessionId, true, true],
      [sessionId, true, false],
    ]);
    // A withdrawal does not make the peer one that never announced (0.2).
    expect(side.channels.peerAnnounced).toBe(true);
    side.channels.receiveText(listening(0));
    side.channels.receiveText(listening(0));
    expect(host.states().slice(2)).toEqual([[sessionId, true, true]]);
  });

  it('starts with deliver only, once ready, while the peer has not announced', () => {
    const host = recordingHost([], 'host');
    const side = engineChannelsOf({ initiator: false, attached: host });
    expect(host.states()).toEqual([]);
    side.channels.becomeReady();
    expect(host.states()).toEqual([[sessionId, true, false]]);
  });

  it('not on a new pair while the peer still announces the old one, nor on a generation this side does not hold', () => {
    const host = recordingHost([], 'host');
    const side = engineChannelsOf({ initiator: true, attached: host });
    side.channels.becomeReady();
    side.channels.receiveText(listening(0));
    side.channels.renew();
    expect(host.states()).toEqual([
      [sessionId, true, false],
      [sessionId, true, true],
      [named(1), true, false],
    ]);
    side.channels.receiveText(listening(0));
    side.channels.receiveText(listening(2));
    expect(host.states().at(-1)).toEqual([named(1), true, false]);
    side.channels.receiveText(listening(1));
    expect(host.states().at(-1)).toEqual([named(1), true, true]);
    expect(side.calls.peerListens).toBe(4);
  });

  it('this side announces a pair only when its holder took that very pair', () => {
    const side = engineChannelsOf({ initiator: false });
    const host = recordingHost(side.events, 'host');
    const stranger = recordingHost(side.events, 'stranger');
    side.attach(host);
    side.channels.becomeReady();
    side.channels.receiveText(open(1));
    side.texts.length = 0;
    side.channels.taken(host.host, sessionId);
    side.channels.taken(stranger.host, named(1));
    side.channels.taken(host.host, `${sessionId}/2`);
    expect(side.texts).toEqual([]);
    side.channels.taken(host.host, named(1));
    side.channels.taken(host.host, named(1));
    expect(side.said()).toEqual([listening(1)]);
  });
});

describe('engine channels: withdrawing from a host', () => {
  it('lets the worker go, tells the peer once, and forgets the host', () => {
    const side = engineChannelsOf({ initiator: true });
    const host = recordingHost(side.events, 'host');
    side.attach(host);
    side.channels.becomeReady();
    side.channels.renew();
    side.channels.taken(host.host, named(1));
    side.texts.length = 0;
    const posts = host.posted.length;
    side.channels.withdrawFrom(recordingHost(side.events, 'stranger').host);
    expect([host.posted.length, side.texts, side.channels.offeredTo]).toEqual([posts, [], host.host]);
    side.channels.withdrawFrom(host.host);
    expect(host.posted.slice(posts).map(({ message }) => message)).toEqual([{ type: 'dataChannelsClosed', peer: peerId, session: named(1) }]);
    expect([side.texts, side.channels.offeredTo]).toEqual([[engineChannelsWithdrawal], null]);
    side.channels.withdrawFrom(host.host);
    side.channels.close();
    expect([host.posted.length, side.texts.length]).toEqual([posts + 1, 1]);
  });

  it('says nothing to the peer when nothing was announced (the worker never said it took the pair)', () => {
    const host = recordingHost([], 'host');
    const side = engineChannelsOf({ initiator: false, attached: host });
    side.channels.becomeReady();
    side.channels.receiveText(open(1));
    side.channels.withdrawFrom(host.host);
    expect(host.ofType('dataChannelsClosed')).toEqual([
      { type: 'dataChannelsClosed', peer: peerId, session: sessionId },
      { type: 'dataChannelsClosed', peer: peerId, session: named(1) },
    ]);
    expect([side.texts, side.channels.offeredTo]).toEqual([[], null]);
  });

  it('withdraws nothing the page kept, and counts the pair as offered to no host (the page, which reads it already)', () => {
    const refusing = recordingHost([], 'host', { refuse: true });
    const side = engineChannelsOf({ initiator: true, attached: refusing });
    side.channels.becomeReady();
    side.texts.length = 0;
    side.channels.withdrawFrom(refusing.host);
    // offeredTo null = the host attached now (none): the transport renews nothing. Left as the
    // refusing host, the peer's word that it listens, arriving after the host stopped, renewed
    // the pair and closed it under the peer's worker for nothing.
    expect([side.texts, side.kept[0]?.stops, side.channels.offeredTo]).toEqual([[], 0, null]);
  });
});

describe('engine channels: closing', () => {
  it('tells the holder once', () => {
    const side = engineChannelsOf({ initiator: true });
    const host = recordingHost(side.events, 'host');
    side.attach(host);
    side.channels.becomeReady();
    side.channels.renew();
    expect(side.channels.close()).toBe(0);
    expect(side.channels.close()).toBe(0);
    expect(host.ofType('dataChannelsClosed')).toEqual([{ type: 'dataChannelsClosed', peer: peerId, session: named(1) }]);
  });

  it('returns the frames the kept pair dropped (the session counts them), stopping it once', () => {
    const side = engineChannelsOf({ initiator: false, framesQueuedWhenStopped: 5 });
    side.channels.becomeReady();
    expect(side.channels.close()).toBe(5);
    expect(side.channels.close()).toBe(0);
    expect([side.kept[0]?.stops, side.counters.framesDroppedOnDisconnect]).toEqual([1, 0]);
  });

  for (const initiator of [true, false]) {
    it(`leaves the ${initiator ? 'initiator' : 'answerer'} inert`, () => {
      const events: Events = [];
      const host = recordingHost(events, 'host');
      const side = engineChannelsOf({ initiator, attached: host, events });
      side.channels.becomeReady();
      side.channels.close();
      side.events.length = 0;
      side.texts.length = 0;
      side.channels.becomeReady();
      for (const text of [listening(0), withdrawn, open(1), request(0)]) side.channels.receiveText(text);
      expect(side.channels.renew()).toBe('not-ready');
      side.channels.taken(host.host, sessionId);
      side.channels.withdrawFrom(host.host);
      expect(side.channels.close()).toBe(0);
      expect([side.events, side.calls, side.channels.peerAnnounced]).toEqual([[], { peerListens: 0, failures: 0, hostReads: 1 }, false]);
    });
  }
});

describe('engine channels: a pair the worker lost in use', () => {
  const { lostChannelsRenewalMinMs: firstWait, lostChannelsRenewalMaxMs: longestWait, lostChannelsStableMs: stable } = handOffLimits;

  /** `host`'s worker took generation `generation`, and the peer says it listens on it: the pair is in use. */
  function takenAndHeard(side: ReturnType<typeof engineChannelsOf>, host: RecordingHost, generation: number): void {
    side.channels.taken(host.host, named(generation));
    side.channels.receiveText(listening(generation));
  }

  /** A ready side whose worker took generation 1 and whose peer listens on it. */
  function inUse(initiator: boolean) {
    const events: Events = [];
    const host = recordingHost(events, 'host');
    const side = engineChannelsOf({ initiator, attached: host, events });
    side.channels.becomeReady();
    if (initiator) side.channels.renew();
    else side.channels.receiveText(open(1));
    takenAndHeard(side, host, 1);
    side.texts.length = 0;
    events.length = 0;
    return { side, host };
  }

  it('the initiator lets the pair go at once, then opens a fresh one for the same worker after the first wait', async () => {
    const { side, host } = inUse(true);
    side.channels.lost(host.host, named(1));
    expect(side.events).toEqual([`host dataChannelsClosed ${named(1)}`]);
    await side.clock.advance(firstWait - 1);
    expect(side.opened.map(({ generation }) => generation)).toEqual([1]);
    await side.clock.advance(1);
    expect(side.opened.map(({ generation }) => generation)).toEqual([1, 2]);
    expect(side.said()).toEqual([open(2)]);
    expect(host.ofType('dataChannels').map(({ session }) => session)).toEqual([named(0), named(1), named(2)]);
    // Announced once the worker took it, and sending resumes once the peer listens on it too.
    takenAndHeard(side, host, 2);
    expect(side.said()).toEqual([open(2), listening(2)]);
    expect(host.states().at(-1)).toEqual([named(2), true, true]);
  });

  it('the answerer asks for a fresh pair after the first wait, naming the generation it lost', async () => {
    const { side, host } = inUse(false);
    side.channels.lost(host.host, named(1));
    await side.clock.advance(firstWait);
    expect(side.said()).toEqual([request(1)]);
    expect(side.opened.map(({ generation }) => generation)).toEqual([1]);
  });

  it('ignores a loss of an older pair, of a pair another worker holds, or after close', async () => {
    const { side, host } = inUse(true);
    side.channels.lost(host.host, named(0));
    side.channels.lost(recordingHost([], 'stranger').host, named(1));
    await side.clock.advance(longestWait);
    expect([side.opened.length, side.texts, side.events]).toEqual([1, [], []]);
    side.channels.lost(host.host, named(1));
    side.channels.close();
    // The wait ends with the session: no timer outlives it.
    expect(side.clock.pendingTimers).toBe(0);
    await side.clock.advance(longestWait);
    expect(side.opened.length).toBe(1);
  });

  it('keeps one wait at a time: a fresh pair lost before the wait for the one before ended replaces it', async () => {
    const { side, host } = inUse(false);
    side.channels.lost(host.host, named(1));
    // The initiator's fresh pair arrives first, and is lost at once too.
    side.channels.receiveText(open(2));
    takenAndHeard(side, host, 2);
    side.channels.lost(host.host, named(2));
    expect(side.clock.pendingTimers).toBe(1);
    await side.clock.advance(longestWait);
    expect([side.said(), side.clock.pendingTimers]).toEqual([[listening(2), request(2)], 0]);
  });

  it('renews nothing when a newer pair came first (the peer renewed, or a request crossed)', async () => {
    const { side, host } = inUse(false);
    side.channels.lost(host.host, named(1));
    // The initiator's fresh pair arrives before this side's wait is over.
    side.channels.receiveText(open(2));
    await side.clock.advance(longestWait);
    expect(side.said()).toEqual([]);
    expect(host.ofType('dataChannels').map(({ session }) => session)).toEqual([named(0), named(1), named(2)]);
  });

  it('renews nothing when the peer withdrew meanwhile (its next worker asks) or this worker went away (the next one renews)', async () => {
    const withdrawing = inUse(true);
    withdrawing.side.channels.lost(withdrawing.host.host, named(1));
    withdrawing.side.channels.receiveText(withdrawn);
    await withdrawing.side.clock.advance(longestWait);
    expect(withdrawing.side.opened.length).toBe(1);

    const leaving = inUse(true);
    leaving.side.channels.lost(leaving.host.host, named(1));
    leaving.side.channels.withdrawFrom(leaving.host.host);
    // The withdrawal ends the wait at once, even while the worker is still attached.
    expect(leaving.side.clock.pendingTimers).toBe(0);
    leaving.side.attach(null);
    await leaving.side.clock.advance(longestWait);
    expect(leaving.side.opened.length).toBe(1);

    // Another worker attached (its attach renews, through the peer link): no pair for the one that lost it.
    const replaced = inUse(true);
    replaced.side.channels.lost(replaced.host.host, named(1));
    replaced.side.attach(recordingHost([], 'next'));
    await replaced.side.clock.advance(longestWait);
    expect(replaced.side.opened.length).toBe(1);
  });

  it('a pair that closed after the peer withdrew is let go, but not counted as lost, and does not lengthen the next wait', async () => {
    const { side, host } = inUse(true);
    side.channels.receiveText(withdrawn);
    side.channels.lost(host.host, named(1));
    expect(host.ofType('dataChannelsClosed').map(({ session }) => session)).toEqual([named(0), named(1)]);
    expect([side.counters.engineChannelsLost, side.clock.pendingTimers]).toEqual([0, 0]);
    // The peer's next worker asks; the pair for it is then lost in use: the first wait again.
    side.channels.receiveText(request(1));
    takenAndHeard(side, host, 2);
    side.channels.lost(host.host, named(2));
    expect(side.counters.engineChannelsLost).toBe(1);
    await side.clock.advance(firstWait);
    expect(side.opened.map(({ generation }) => generation)).toEqual([1, 2, 3]);
  });

  it('doubles the wait with each loss in a row, up to the longest, and starts over after a pair that lasted', async () => {
    const { side, host } = inUse(true);
    const waits: number[] = [];
    for (let loss = 0; loss < 12; loss++) {
      const generation = side.opened.length;
      side.channels.lost(host.host, named(generation));
      const lostAt = side.clock.now();
      await side.clock.runUntil(() => side.opened.length > generation, { timeoutMs: 2 * longestWait, stepMs: 1 });
      waits.push(side.clock.now() - lostAt);
      side.channels.taken(host.host, named(generation + 1));
    }
    expect(waits).toEqual(waits.map((_wait, index) => Math.min(longestWait, firstWait * 2 ** index)));
    expect(waits.at(-1)).toBe(longestWait);
    // This pair lasts: its loss waits the first wait again.
    await side.clock.advance(stable);
    const generation = side.opened.length;
    side.channels.lost(host.host, named(generation));
    await side.clock.advance(firstWait);
    expect(side.opened.length).toBe(generation + 1);
  });

  it('out of generations, has the session closed so the next connection takes the channels', async () => {
    const events: Events = [];
    const host = recordingHost(events, 'host');
    const side = engineChannelsOf({ initiator: true, attached: host, events });
    side.channels.becomeReady();
    for (let generation = 1; generation <= maxGeneration; generation++) side.channels.renew();
    takenAndHeard(side, host, maxGeneration);
    side.channels.lost(host.host, named(maxGeneration));
    await side.clock.advance(firstWait);
    expect(side.calls.failures).toBe(1);
    expect(side.opened.length).toBe(maxGeneration);
  });
});
