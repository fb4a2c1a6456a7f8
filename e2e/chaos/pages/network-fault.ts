// A network fault injected under the WebRTC transport, in whichever scope loads it (the chaos page
// and its engine's worker, since the data channels of a worker node live in the worker): while
// "partitioned", every binary message this scope sends or receives on an RTCDataChannel is
// dropped. Raft frames travel only as binary messages; the transport's own protocol (handshake,
// engine-channel announcements) travels as text, which passes, so the connections stay up and
// authenticated underneath, as with the demo's partition switch — but unlike that switch this
// keeps the data-channel hand-off to the worker, which is what the campaign wants to exercise.
// It also remembers every data channel this scope listens on, so the campaign can close them under
// the worker's engine (the lost-channel renewal path, `dataChannelsLost`).

export interface NetworkFault {
  /** Whether RTCDataChannel exists here (a worker without it cannot hold channels anyway). */
  readonly installed: boolean;
  setPartitioned(partitioned: boolean): void;
  /** Closes every open data channel seen here; returns how many. */
  closeChannels(): number;
}

/** At most this many channels are remembered; closed ones are pruned first. */
const maxTrackedChannels = 4096;

export function installNetworkFault(): NetworkFault {
  let partitioned = false;
  const channels = new Set<RTCDataChannel>();
  if (typeof RTCDataChannel === 'undefined') {
    return { installed: false, setPartitioned: () => {}, closeChannels: () => 0 };
  }
  const prototype = RTCDataChannel.prototype;
  const track = (channel: RTCDataChannel): void => {
    if (channels.size >= maxTrackedChannels) for (const known of channels) if (known.readyState === 'closed') channels.delete(known);
    if (channels.size < maxTrackedChannels) channels.add(channel);
  };
  const dropped = (data: unknown): boolean => partitioned && typeof data !== 'string';

  const send = prototype.send;
  prototype.send = function (this: RTCDataChannel, data: never): void {
    if (dropped(data)) return;
    send.call(this, data);
  };

  const addEventListener = prototype.addEventListener;
  prototype.addEventListener = function (this: RTCDataChannel, type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    if (listener === null) return;
    if (type !== 'message') return addEventListener.call(this, type, listener, options);
    track(this);
    const filtered = (event: Event): void => {
      if (dropped((event as MessageEvent).data)) return;
      if (typeof listener === 'function') listener.call(this, event);
      else listener.handleEvent(event);
    };
    addEventListener.call(this, type, filtered, options);
  } as typeof prototype.addEventListener;

  // simple-peer listens on its channel through the onmessage property.
  const onmessage = Object.getOwnPropertyDescriptor(prototype, 'onmessage');
  if (onmessage?.set !== undefined && onmessage.get !== undefined) {
    const setHandler = onmessage.set;
    Object.defineProperty(prototype, 'onmessage', {
      configurable: true,
      enumerable: onmessage.enumerable ?? true,
      get: onmessage.get,
      set(this: RTCDataChannel, handler: ((event: MessageEvent) => void) | null) {
        track(this);
        setHandler.call(this, handler === null ? null : (event: MessageEvent) => (dropped(event.data) ? undefined : handler.call(this, event)));
      },
    });
  }

  return {
    installed: true,
    setPartitioned(value) {
      partitioned = value;
    },
    closeChannels() {
      let closed = 0;
      for (const channel of channels) {
        if (channel.readyState === 'open' || channel.readyState === 'connecting') {
          channel.close();
          closed += 1;
        }
        channels.delete(channel);
      }
      return closed;
    },
  };
}

/** The BroadcastChannel on which a chaos page tells its engine's worker about faults. */
export const faultChannelName = (self: string): string => `raftmesh-chaos-fault:${self}`;

/** Page → worker. */
export type FaultCommand = { readonly type: 'partition'; readonly partitioned: boolean } | { readonly type: 'closeChannels'; readonly requestId: number } | { readonly type: 'hello' };

/** Worker → page. */
export type FaultReply = { readonly type: 'ready'; readonly installed: boolean } | { readonly type: 'channelsClosed'; readonly requestId: number; readonly closed: number };
