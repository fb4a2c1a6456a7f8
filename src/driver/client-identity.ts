// This node's §8 client identity: stamps each proposal with a DedupKey once, and watches the
// committed log for entries under its own client id that it never issued, which proves a second
// live writer holds the same id (SPEC "Collision").
import { mintAutoClientId } from '../core/auto-client-id.ts';
import type { ClientId, ClientIdentity, DedupKey, LogEntry, NodeId } from '../core/types.ts';
import { isValidCounter } from '../core/types.ts';

/** Request ids remembered as issued; older ones count as issued (bounded memory). */
const rememberedIssuedIds = 100_000;

export type CollisionVerdict =
  | { readonly type: 'none' }
  | { readonly type: 'durableCollision'; readonly clientId: ClientId }
  | { readonly type: 'reminted'; readonly previous: ClientId; readonly next: ClientId };

export interface ClientIdentityState {
  readonly clientId: ClientId;
  stamp(requestId: number | undefined): DedupKey;
  /** Checks a committed entry; an auto id re-mints itself on collision. */
  observeCommitted(entry: LogEntry): CollisionVerdict;
}

export function createClientIdentity(identity: ClientIdentity | undefined, node: NodeId, random: () => number, restoredEntries: readonly LogEntry[]): ClientIdentityState {
  const durable = identity?.type === 'durable';
  let current: ClientId = identity?.type === 'durable' ? identity.clientId : mintAutoClientId(node, random);
  // A durable id resumes above every request id the log already holds for it.
  let nextRequestId = durable ? highestRequestId(restoredEntries, current) + 1 : 1;
  // Nothing this incarnation has not issued can be judged until it issues something: entries of
  // an earlier incarnation may still arrive after a restart (a forward in flight at the crash).
  let firstIssuedThisLife = Number.POSITIVE_INFINITY;
  const issued = new Set<number>();
  const issuedOrder: number[] = [];
  let forgottenBelow = 0;

  const remember = (requestId: number): void => {
    if (issued.has(requestId)) return;
    issued.add(requestId);
    issuedOrder.push(requestId);
    if (issuedOrder.length > rememberedIssuedIds) {
      const dropped = issuedOrder.splice(0, issuedOrder.length - rememberedIssuedIds);
      for (const id of dropped) {
        issued.delete(id);
        forgottenBelow = Math.max(forgottenBelow, id + 1);
      }
    }
  };

  const neverIssued = (requestId: number): boolean => requestId >= firstIssuedThisLife && requestId >= forgottenBelow && !issued.has(requestId);

  return {
    get clientId() {
      return current;
    },
    stamp(requestId) {
      if (requestId !== undefined) {
        if (!isValidCounter(requestId) || requestId === 0) throw new RangeError(`propose requestId must be a positive safe integer, got ${String(requestId)}`);
        // A caller replaying its own request id after a crash re-issues it: never a collision.
        if (requestId < firstIssuedThisLife) firstIssuedThisLife = requestId;
        remember(requestId);
        nextRequestId = Math.max(nextRequestId, requestId + 1);
        return { clientId: current, requestId };
      }
      const stamped = nextRequestId++;
      if (stamped < firstIssuedThisLife) firstIssuedThisLife = stamped;
      remember(stamped);
      return { clientId: current, requestId: stamped };
    },
    observeCommitted(entry) {
      const key = entry.dedupKey;
      if (key === undefined || key.clientId !== current || !neverIssued(key.requestId)) return { type: 'none' };
      if (durable) return { type: 'durableCollision', clientId: current };
      const previous = current;
      current = mintAutoClientId(node, random);
      nextRequestId = 1;
      firstIssuedThisLife = Number.POSITIVE_INFINITY;
      issued.clear();
      issuedOrder.length = 0;
      forgottenBelow = 0;
      return { type: 'reminted', previous, next: current };
    },
  };
}

function highestRequestId(entries: readonly LogEntry[], owner: ClientId): number {
  let highest = 0;
  for (const entry of entries) {
    if (entry.dedupKey?.clientId === owner && entry.dedupKey.requestId > highest) highest = entry.dedupKey.requestId;
  }
  return highest;
}
