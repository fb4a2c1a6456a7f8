// What the worker pushes to the page: events batched per task on the events port (the hot kinds
// in binary, event-records.ts), each batch numbered so answers can name the batch they must wait
// for, and the node's state as versioned snapshots (a new version only when something changed).
//
// Why per task and not per microtask: a committed-stream pump awaits its iterator between items,
// so a flush queued as a microtask ran between every two items and posted each committed entry in
// a message of its own. Under load that was thousands of structured clones and page tasks per
// second, which starved the page's transport of its turn and cost elections (bench:browser).
import type { RaftNode } from '../driver/node-options.ts';
import { serializeError } from './error-transfer.ts';
import { createNextTaskScheduler } from './next-task.ts';
import { encodeEventBatches } from './event-records.ts';
import type { NodeState, WorkerEvent, WorkerEventBatch } from './protocol.ts';

export interface EventOutbox {
  /** Queues an event; the batch is posted after the tasks queued now. */
  readonly send: (event: WorkerEvent) => void;
  /** Posts what is queued now; returns the sequence number of the last batch posted. */
  flush(): number;
}

export function createEventOutbox(port: MessagePort): EventOutbox {
  let queued: WorkerEvent[] = [];
  let sequence = 0;
  const flush = (): number => {
    if (queued.length === 0) return sequence;
    const batch = queued;
    // Emptied first: if packing or posting throws, later events still go out.
    queued = [];
    // Usually one batch; more when the records outgrow what one kept command may pin.
    for (const { records, objects, transfer } of encodeEventBatches(answersLast(batch))) {
      sequence += 1;
      port.postMessage({ type: 'events', sequence, records, objects } satisfies WorkerEventBatch, transfer);
    }
    return sequence;
  };
  const scheduler = createNextTaskScheduler(flush);
  return {
    send(event) {
      if (queued.length === 0) scheduler.schedule();
      queued.push(event);
    },
    flush,
  };
}

/**
 * The task's events with the proposals' answers moved after the rest (before a state that says
 * the node stopped, if one came). The page settles a call as soon as it reads its answer, and a
 * flush that outgrows one batch is posted as several messages: a committed stream's pump queues
 * each entry after the driver has already resolved every proposal of the step, so answers came
 * first, and a caller resumed by the first message found the entries its proposal committed
 * still in a later one, where a node on the page hands them out at once (found by a review,
 * 2026-12-06: 400 proposals of 1,000 bytes in one burst).
 */
export function answersLast(events: readonly WorkerEvent[]): readonly WorkerEvent[] {
  // One pass (it runs on every flush at saturation). A proposal resolved before the node stopped
  // is answered before the page learns of the stop, which rejects every call still pending.
  const answers: WorkerEvent[] = [];
  const others: WorkerEvent[] = [];
  let stop = -1;
  for (const event of events) {
    if (event.type === 'answer') answers.push(event);
    else {
      if (stop < 0 && event.type === 'state' && event.state.stopped !== null) stop = others.length;
      others.push(event);
    }
  }
  if (answers.length === 0) return events;
  return stop < 0 ? [...others, ...answers] : [...others.slice(0, stop), ...answers, ...others.slice(stop)];
}

export interface StateTracker {
  /** The node's state now, with the same version as last time when nothing changed. */
  current(node: RaftNode): NodeState;
}

export function createStateTracker(): StateTracker {
  let last: NodeState | null = null;
  return {
    current(node) {
      const stoppedBy = node.stopped.value;
      const fields: Omit<NodeState, 'version'> = {
        role: node.role.value,
        leader: node.leader.value,
        term: node.term.value,
        membership: node.membership.value,
        commitIndex: node.commitIndex.value,
        appliedIndex: node.appliedIndex?.() ?? node.commitIndex.value,
        compactionFloor: node.compactionFloor.value,
        clientId: node.clientId?.value ?? null,
        stopped: stoppedBy === null ? null : serializeError(stoppedBy),
        replicationProgress: node.role.value === 'leader' ? [...(node.replicationProgress?.() ?? [])] : [],
        silentPeers: node.role.value === 'leader' ? [...(node.silentPeers?.() ?? [])] : [],
      };
      if (last === null || !sameState(last, fields)) last = { version: (last?.version ?? 0) + 1, ...fields };
      return last;
    },
  };
}

function sameState(state: NodeState, fields: Omit<NodeState, 'version'>): boolean {
  return (
    state.role === fields.role &&
    state.leader === fields.leader &&
    state.term === fields.term &&
    state.membership === fields.membership &&
    state.commitIndex === fields.commitIndex &&
    state.appliedIndex === fields.appliedIndex &&
    state.compactionFloor === fields.compactionFloor &&
    state.clientId === fields.clientId &&
    (state.stopped === null) === (fields.stopped === null) &&
    state.replicationProgress.length === fields.replicationProgress.length &&
    state.replicationProgress.every(([peer, match], position) => fields.replicationProgress[position]?.[0] === peer && fields.replicationProgress[position]?.[1] === match) &&
    state.silentPeers.length === fields.silentPeers.length &&
    state.silentPeers.every((peer, position) => fields.silentPeers[position] === peer)
  );
}
