// The report's replay command names every switch the run had, so a failure replays the same
// campaign: the edge peer, as witness or not, on the pages' timing or the engine's defaults.
import { describe, expect, it } from 'vitest';
import { replayCommand } from './report.ts';

describe('the room chaos replay command', () => {
  const run = { seed: 61, seconds: 150 };

  it('replays a run without the edge peer, with it, and with its default timeouts', () => {
    expect(replayCommand({ ...run, edgePeerTimeouts: null, edgePeerWitness: false })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150');
    expect(replayCommand({ ...run, edgePeerTimeouts: 'pages', edgePeerWitness: false })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer');
    expect(replayCommand({ ...run, edgePeerTimeouts: 'defaults', edgePeerWitness: false })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer --edge-default-timeouts');
  });

  it('replays a witness run as a witness run', () => {
    expect(replayCommand({ ...run, edgePeerTimeouts: 'pages', edgePeerWitness: true })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer --witness');
    expect(replayCommand({ ...run, edgePeerTimeouts: 'defaults', edgePeerWitness: true })).toBe('npm run chaos:rooms -- --seed 61 --seconds 150 --edge-peer --witness --edge-default-timeouts');
  });
});
