// An in-page signaling hub for tests: every client made from it is in one room, signals are
// relayed asynchronously and in order, and the test can watch (and tamper with) what is relayed,
// or inject a signal under any member's id.
import { createEmitter, createWatchable } from '../../core/observable.ts';
import type { NodeId } from '../../core/types.ts';
import { samePeerSet, type ReceivedSignal, type SignalingClient } from '../../signaling/signaling-client.ts';

export interface RelayedSignal {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly payload: string;
}

export interface SignalingHub {
  client(id: NodeId): SignalingClient;
  /** Everything relayed so far, oldest first. */
  readonly relayed: readonly RelayedSignal[];
  /** Rewrites (or with null, drops) each payload in transit. */
  tamper: ((signal: RelayedSignal) => string | null) | null;
  /** Delivers `payload` to member `to` as if `from` had sent it (a forger; nothing is recorded). */
  inject(from: NodeId, to: NodeId, payload: string): void;
}

export function createSignalingHub(roomId = 'test-room'): SignalingHub {
  const members = new Map<NodeId, { emit: (signal: ReceivedSignal) => void; refresh: () => void }>();
  const relayed: RelayedSignal[] = [];
  const refreshAll = (): void => {
    for (const member of members.values()) member.refresh();
  };
  const hub: SignalingHub = {
    relayed,
    tamper: null,
    inject(from, to, payload) {
      setTimeout(() => members.get(to)?.emit({ from, payload }), 0);
    },
    client(selfId) {
      const signals = createEmitter<ReceivedSignal>();
      const peers = createWatchable<ReadonlySet<NodeId>>(new Set(), samePeerSet);
      let resolveClosed: (value: Error | null) => void = () => undefined;
      const closed = new Promise<Error | null>((resolve) => (resolveClosed = resolve));
      members.set(selfId, {
        emit: (signal) => signals.emit(signal),
        refresh: () => peers.set(new Set([...members.keys()].filter((id) => id !== selfId))),
      });
      queueMicrotask(refreshAll);
      return {
        selfId,
        roomId,
        peers,
        signals,
        signal(to, payload) {
          const relay = { from: selfId, to, payload };
          relayed.push(relay);
          const delivered = hub.tamper === null ? payload : hub.tamper(relay);
          if (delivered === null) return;
          setTimeout(() => members.get(to)?.emit({ from: selfId, payload: delivered }), 0);
        },
        close() {
          if (!members.delete(selfId)) return;
          peers.set(new Set());
          refreshAll();
          resolveClosed(null);
        },
        closed,
      } satisfies SignalingClient;
    },
  };
  return hub;
}
