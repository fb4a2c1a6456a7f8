// The report's replay command names every switch the run had, so a failure replays the same
// campaign: the edge peer, as witness or not, on the pages' timing or the engine's defaults. The
// longest stall is measured between acknowledgements under load only.
import { describe, expect, it } from 'vitest';
import type { DispatchRecord } from './history.ts';
import { longestStallWithoutAcknowledgement, replayCommand } from './report.ts';

describe('the room chaos replay command', () => {
  const run = { seed: 61, seconds: 150, tabs: null };

  it('replays a run without the edge peer, with it, and with its default timeouts', () => {
    expect(replayCommand({ ...run, edgePeerTimeouts: null, edgePeerWitness: false })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150');
    expect(replayCommand({ ...run, edgePeerTimeouts: 'pages', edgePeerWitness: false })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer');
    expect(replayCommand({ ...run, edgePeerTimeouts: 'defaults', edgePeerWitness: false })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer --edge-default-timeouts');
  });

  it('replays a witness run as a witness run', () => {
    expect(replayCommand({ ...run, edgePeerTimeouts: 'pages', edgePeerWitness: true })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer --witness');
    expect(replayCommand({ ...run, edgePeerTimeouts: 'defaults', edgePeerWitness: true })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer --witness --edge-default-timeouts');
  });

  it('replays a room of a fixed number of tabs', () => {
    expect(replayCommand({ ...run, tabs: 2, edgePeerTimeouts: 'pages', edgePeerWitness: true })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --tabs 2 --edge-peer --witness');
  });
});

describe('the longest stretch without an acknowledgement', () => {
  const dispatch = (completedAtMs: number | null, outcome: DispatchRecord['outcome'], final = false): DispatchRecord => ({ kind: 'dispatch', operationId: `x${completedAtMs ?? 'n'}`, tab: 'tab-1', invokedAtMs: 0, completedAtMs, outcome, final });

  it('measures between acknowledged dispatches under load, whatever their order in the history', () => {
    const operations = [dispatch(1_000, 'ok'), dispatch(9_000, 'ok'), dispatch(2_000, 'ok'), dispatch(5_000, 'unknown'), dispatch(null, 'unknown'), dispatch(60_000, 'ok', true)];
    expect(longestStallWithoutAcknowledgement({ operations })).toEqual({ ms: 7_000, fromMs: 2_000 });
  });

  it('has nothing to say about fewer than two acknowledgements', () => {
    expect(longestStallWithoutAcknowledgement({ operations: [dispatch(1_000, 'ok'), dispatch(2_000, 'failed')] })).toBeNull();
  });
});
