// The campaign's replicated state: the ids of the increments applied, in log order. Recording ids
// rather than a sum makes a duplicate or a lost command visible to the checker. Shared by the
// chaos page and the edge peer (`raftmesh-peer --app`, which looks for `storeOptions`).
import type { ReplicatedStoreOptions } from '../../src/index.ts';

export type IncrementCommand = { readonly type: 'increment'; readonly id: string };
export interface AppliedIds {
  readonly applied: readonly string[];
}

export const storeOptions: ReplicatedStoreOptions<AppliedIds, IncrementCommand> = {
  initialState: { applied: [] },
  apply: (state, command) => ({ applied: [...state.applied, command.id] }),
};
