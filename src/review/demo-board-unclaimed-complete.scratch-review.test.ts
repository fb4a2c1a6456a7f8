// Review (demo board reducer): commands come from every page in the room, as JSON bytes, so a field
// can be anything JSON holds. completeTask and releaseTask check only `task.claimedBy !== by`, and
// an unclaimed task's claimedBy is null: a command with `by: null` (which the reducer never
// checks is a name) passes that check on an unclaimed task. completeTask then marks it done with
// nobody having claimed it ("claim it before completing it" is the reducer's own rule), and the
// board shows a done task as "unclaimed" with a Claim button; whoever claims it next is shown as
// having done it.
import { describe, expect, it } from 'vitest';
import { applyBoardCommand, BoardCommandRefused, initialBoardState, type BoardCommand } from '../../demo/board/board-state.ts';
import { storeOptions } from '../../demo/board/store-options.ts';
import { jsonSerializer } from '../rooms/serializer.ts';

/** A command as another page's bytes reach this one: through the store's default JSON serializer. */
const fromPeer = (json: string): BoardCommand => jsonSerializer<BoardCommand>().decode(new TextEncoder().encode(json));

describe('demo board: completing or releasing a task nobody claimed', () => {
  const board = applyBoardCommand(initialBoardState, { type: 'addTask', id: 't1', title: 'Write the report' });

  it('completeTask with by: null on an unclaimed task is refused (claim it before completing it)', () => {
    expect(() => storeOptions.apply(board, fromPeer('{"type":"completeTask","id":"t1","by":null}'))).toThrow(BoardCommandRefused);
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
