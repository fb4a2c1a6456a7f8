// A node's process that can be paused, as SIGSTOP, a long garbage collection, a frozen browser
// tab or a starved thread pause one: time goes on, and nothing of the node runs. Its timers fall
// due and wait; frames reach it and wait; what it would send waits too. When it resumes, the due
// timers and the frames that arrived are handed over in the order a resumed event loop may pick
// (timers first, the worst case for a node judging its peers' silence, or frames first), then
// what it sent goes out. A crash while paused drops all of it, as the process dies.
import type { Clock } from '../core/config.ts';
import { createEmitter } from '../core/observable.ts';
import type { NodeId, RaftEnvelope } from '../core/types.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';

/** Which of the waiting kinds a resumed node takes first. */
export type ResumeOrder = 'timersFirst' | 'framesFirst';

export interface PausableProcess {
  /** The node's clock: the shared one, with callbacks held while paused. */
  readonly clock: Clock;
  /** The node's transport: frames in and out held while paused. */
  readonly transport: RaftTransport;
  readonly paused: boolean;
  pause(): void;
  resume(order: ResumeOrder): void;
  /** The process died: what was held is gone, and its next incarnation starts running. */
  discard(): void;
}

interface HeldTimer {
  readonly run: () => void;
  cancelled: boolean;
}

type Outgoing = { readonly to: NodeId; readonly bytes: Uint8Array };

export function createPausableProcess(shared: Clock, inner: RaftTransport): PausableProcess {
  let paused = false;
  let dueTimers: HeldTimer[] = [];
  let arrived: RaftEnvelope[] = [];
  let unsent: Outgoing[] = [];
  const incoming = createEmitter<RaftEnvelope>();
  inner.incoming.subscribe((envelope) => {
    if (paused) arrived.push(envelope);
    else incoming.emit(envelope);
  });

  /** Handles this clock gave out: clearing anything else (junk, another clock's) is a no-op. */
  const issued = new WeakSet<object>();
  const clock: Clock = {
    now: () => shared.now(),
    setTimeout(run, ms) {
      const timer: HeldTimer = { run, cancelled: false };
      const handle = shared.setTimeout(() => {
        if (timer.cancelled) return;
        if (paused) dueTimers.push(timer);
        else run();
      }, ms);
      const issuedHandle = { handle, timer };
      issued.add(issuedHandle);
      return issuedHandle;
    },
    clearTimeout(value) {
      if (typeof value !== 'object' || value === null || !issued.has(value)) return;
      const { handle, timer } = value as { handle: unknown; timer: HeldTimer };
      // Cancelled rather than removed: a timer already due and held is skipped at the resume.
      timer.cancelled = true;
      shared.clearTimeout(handle);
    },
  };

  const transport: RaftTransport = {
    selfId: inner.selfId,
    peers: inner.peers,
    incoming,
    send(to, bytes) {
      if (paused) unsent.push({ to, bytes });
      else inner.send(to, bytes);
    },
    ...(inner.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: inner.maxPayloadBytes }),
    ...(inner.orderedFrameBytes === undefined ? {} : { orderedFrameBytes: inner.orderedFrameBytes }),
  };

  const runTimers = (): void => {
    const timers = dueTimers;
    dueTimers = [];
    for (const timer of timers) if (!timer.cancelled) timer.run();
  };
  const deliverFrames = (): void => {
    const frames = arrived;
    arrived = [];
    for (const envelope of frames) incoming.emit(envelope);
  };

  return {
    clock,
    transport,
    get paused() {
      return paused;
    },
    pause() {
      paused = true;
    },
    resume(order) {
      if (!paused) return;
      paused = false;
      const outgoing = unsent;
      unsent = [];
      for (const { to, bytes } of outgoing) inner.send(to, bytes);
      if (order === 'timersFirst') {
        runTimers();
        deliverFrames();
      } else {
        deliverFrames();
        runTimers();
      }
    },
    discard() {
      paused = false;
      for (const timer of dueTimers) timer.cancelled = true;
      dueTimers = [];
      arrived = [];
      unsent = [];
    },
  };
}
