// Guards that a task nobody claimed is never completed or released, whatever `by` a peer's JSON
// command carries (`by: null` matched an unclaimed task's claimedBy; found by a review, 2026-12-07).
import { describe, expect, it } from 'vitest';
import { applyBoardCommand, BoardCommandRefused, initialBoardState, type BoardCommand } from './board-state.ts';
import { storeOptions } from './store-options.ts';
import { jsonSerializer } from '../../src/rooms/serializer.ts';

/** A command as another page's bytes reach this one: through the store's default JSON serializer. */
const fromPeer = (json: string): BoardCommand => jsonSerializer<BoardCommand>().decode(new TextEncoder().encode(json));

describe('demo board: completing or releasing a task nobody claimed', () => {
  const board = applyBoardCommand(initialBoardState, { type: 'addTask', id: 't1', title: 'Write the report' });

  it('completeTask with by: null on an unclaimed task is refused (claim it before completing it)', () => {
    expect(() => storeOptions.apply(board, fromPeer('{"type":"completeTask","id":"t1","by":null}'))).toThrow(BoardCommandRefused);
  });

  it('releaseTask with by: null, or a name, on an unclaimed task is refused', () => {
    expect(() => storeOptions.apply(board, fromPeer('{"type":"releaseTask","id":"t1","by":null}'))).toThrow(BoardCommandRefused);
    expect(() => storeOptions.apply(board, fromPeer('{"type":"releaseTask","id":"t1","by":"Bo"}'))).toThrow(/not claimed/);
  });

  it('releaseLock with by: null is refused as a command without a name', () => {
    expect(() => storeOptions.apply(initialBoardState, fromPeer('{"type":"releaseLock","by":null,"fencingToken":0}'))).toThrow(/a name must not be empty/);
  });

  it('a task is never done with nobody having claimed it, whatever a peer sends', () => {
    let state = board;
    for (const json of ['{"type":"completeTask","id":"t1","by":null}', '{"type":"claimTask","id":"t1","by":"Bo"}']) {
      try {
        state = storeOptions.apply(state, fromPeer(json));
      } catch (error) {
        if (!(error instanceof BoardCommandRefused)) throw error;
      }
    }
    // Bo claimed it and never completed it: the board must not show "done by Bo".
    expect(state.tasks[0]).toEqual({ id: 't1', title: 'Write the report', claimedBy: 'Bo', done: false });
  });
});
