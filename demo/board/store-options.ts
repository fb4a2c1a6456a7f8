// The board's store options as a module of their own, so an edge peer can run the same reducer:
//   raftmesh-peer --room board --signal ws://127.0.0.1:8787 --data ./peer --app demo/board/store-options.ts
import { applyBoardCommand, initialBoardState, type BoardCommand, type BoardState } from './board-state.ts';

export const storeOptions = { initialState: initialBoardState, apply: applyBoardCommand, snapshotEvery: 500 } satisfies { initialState: BoardState; apply: (state: BoardState, command: BoardCommand) => BoardState; snapshotEvery: number };
