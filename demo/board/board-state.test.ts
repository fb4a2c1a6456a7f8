// The board's reducer: agreement-only rules hold whatever order commands arrive in.
import { describe, expect, it } from 'vitest';
import { applyBoardCommand, BoardCommandRefused, initialBoardState, type BoardCommand, type BoardState } from './board-state.ts';

const run = (commands: readonly BoardCommand[], state: BoardState = initialBoardState): BoardState => commands.reduce(applyBoardCommand, state);
const tryApply = (state: BoardState, command: BoardCommand): BoardState => {
  try {
    return applyBoardCommand(state, command);
  } catch (error) {
    if (error instanceof BoardCommandRefused) return state;
    throw error;
  }
};

describe('board reducer', () => {
  it('lets exactly one of several concurrent claims win: the first in log order', () => {
    const board = run([{ type: 'addTask', id: 't1', title: 'Write the report' }]);
    const claims: BoardCommand[] = ['ana', 'bo', 'cy'].map((by) => ({ type: 'claimTask', id: 't1', by }));
    const final = claims.reduce(tryApply, board);
    expect(final.tasks[0]?.claimedBy).toBe('ana');
    expect(() => applyBoardCommand(final, { type: 'claimTask', id: 't1', by: 'bo' })).toThrow(/already claimed by ana/);
  });

  it('counts every increment', () => {
    expect(run(Array.from({ length: 50 }, () => ({ type: 'increment', amount: 1 }) as const)).counter).toBe(50);
    expect(() => applyBoardCommand(initialBoardState, { type: 'increment', amount: 1.5 })).toThrow(BoardCommandRefused);
  });

  it('orders chat and keeps only the newest messages', () => {
    const state = run(Array.from({ length: 120 }, (_, position) => ({ type: 'say', author: 'ana', text: `m${position}` }) as const));
    expect(state.chat.length).toBe(100);
    expect(state.chat[0]?.text).toBe('m20');
    expect(state.chat.at(-1)?.sequence).toBe(120);
  });

  it('hands out strictly increasing fencing tokens and refuses a stale release', () => {
    const first = run([{ type: 'acquireLock', by: 'ana' }]);
    expect(first.lock).toEqual({ holder: 'ana', fencingToken: 1 });
    expect(() => applyBoardCommand(first, { type: 'acquireLock', by: 'bo' })).toThrow(/held by ana/);
    const released = applyBoardCommand(first, { type: 'releaseLock', by: 'ana', fencingToken: 1 });
    const second = applyBoardCommand(released, { type: 'acquireLock', by: 'bo' });
    expect(second.lock.fencingToken).toBe(2);
    expect(() => applyBoardCommand(second, { type: 'releaseLock', by: 'ana', fencingToken: 1 })).toThrow(/stale/);
  });

  it('takes a held lock over from the token its user saw, once: the old holder’s token is stale from then on', () => {
    const held = run([{ type: 'acquireLock', by: 'ana' }]);
    expect(() => applyBoardCommand(initialBoardState, { type: 'takeOverLock', by: 'bo', fromToken: 0 })).toThrow(/moved on from token 0 \(it is at token 0, held by nobody\)/);
    const taken = applyBoardCommand(held, { type: 'takeOverLock', by: 'bo', fromToken: 1 });
    expect(taken.lock).toEqual({ holder: 'bo', fencingToken: 2 });
    expect(() => applyBoardCommand(taken, { type: 'takeOverLock', by: 'cy', fromToken: 1 })).toThrow(/moved on from token 1 \(it is at token 2, held by bo\)/);
    expect(() => applyBoardCommand(taken, { type: 'releaseLock', by: 'ana', fencingToken: 1 })).toThrow(/stale/);
    expect(() => applyBoardCommand(held, { type: 'takeOverLock', by: '', fromToken: 1 })).toThrow(/a name must not be empty/);
  });

  it('never mutates the state it is given', () => {
    const state = run([{ type: 'addTask', id: 't1', title: 'x' }]);
    const frozen = JSON.stringify(state);
    applyBoardCommand(state, { type: 'claimTask', id: 't1', by: 'ana' });
    expect(JSON.stringify(state)).toBe(frozen);
  });

  it('refuses malformed commands with a clear message', () => {
    expect(() => applyBoardCommand(initialBoardState, { type: 'addTask', id: 't', title: '' })).toThrow(/title must not be empty/);
    expect(() => applyBoardCommand(initialBoardState, { type: 'claimTask', id: 'nope', by: 'a' })).toThrow(/no task nope/);
    expect(() => applyBoardCommand(initialBoardState, { type: 'explode' } as unknown as BoardCommand)).toThrow(/unknown command/);
  });
});
