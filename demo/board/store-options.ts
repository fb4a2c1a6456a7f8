// The board's store options as a module of their own, so an edge peer can run the same reducer:
//   raftmesh-peer --room board --signal ws://127.0.0.1:8787 --data ./peer --app demo/board/store-options.ts
//
// `version` (ReplicatedStoreOptions.version): bump it with every release that adds a command kind
// or changes what a command or the state means, so that a tab left open on an older release stops
// and asks for a reload rather than show a board that differs from everyone else's. Version 1 is
// the first versioned release: its reducer is the one before it, so it folds the version-0
// entries and snapshots already in browsers' storage unchanged.
import { applyBoardCommand, initialBoardState, type BoardCommand, type BoardState } from './board-state.ts';

export const storeOptions = { initialState: initialBoardState, apply: applyBoardCommand, snapshotEvery: 500, version: 1 } satisfies { initialState: BoardState; apply: (state: BoardState, command: BoardCommand) => BoardState; snapshotEvery: number; version: number };
