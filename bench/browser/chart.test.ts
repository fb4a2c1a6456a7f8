import { describe, expect, it } from 'vitest';
import { phaseLabels, renderChart } from './chart.ts';

describe('phaseLabels', () => {
  it('keeps names on the first line while they fit, and moves a name that would run into the one before a line lower', () => {
    const lines = phaseLabels([
      { name: 'saturation', left: 100 },
      { name: 'profiled', left: 145 }, // 'saturation' ends at 100 + 10 × 4.5 = 145: fits
      { name: 'snapshot', left: 160 }, // 'profiled' ends at 181: a line lower
      { name: 'failover', left: 170 }, // both lines still taken: a third
      { name: 'memory', left: 300 }, // every line free again
    ]).map((label) => label.line);
    expect(lines).toEqual([0, 0, 1, 2, 0]);
  });
});

describe('renderChart', () => {
  it('writes every phase name after every shading, so no shading covers a name', () => {
    const phases = [
      { name: 'saturation', startMs: 0, endMs: 20_000 },
      { name: 'profiled', startMs: 20_000, endMs: 25_000 },
      { name: 'snapshot', startMs: 25_000, endMs: 60_000 },
    ];
    const svg = renderChart('title', [{ atMs: 0, commitIndex: 0 }, { atMs: 60_000, commitIndex: 1_000 }], [], phases);
    const panel = svg.slice(0, svg.indexOf('commit latency'));
    const lastShading = panel.lastIndexOf('<rect x=');
    for (const phase of phases) expect(panel.indexOf(`>${phase.name}</text>`)).toBeGreaterThan(lastShading);
  });
});
