import { describe, expect, it } from 'vitest';
import type { HeapSizes } from './cdp.ts';
import { renderMemoryChart } from './memory-chart.ts';
import type { MemorySample } from './memory-phase.ts';

const mebibyte = 1024 * 1024;

function heap(workerArrayBufferMiB: number, blinkBytes = 0): HeapSizes {
  const workerParts = { javaScriptBytes: 2 * mebibyte, blinkBytes, arrayBufferBytes: workerArrayBufferMiB * mebibyte };
  const pageParts = { javaScriptBytes: 3 * mebibyte, blinkBytes: mebibyte, arrayBufferBytes: 0 };
  const sum = (parts: typeof workerParts): number => parts.javaScriptBytes + parts.blinkBytes + parts.arrayBufferBytes;
  return { pageBytes: sum(pageParts), workerBytes: sum(workerParts), pageParts, workerParts };
}

function sample(commits: number, heaps: Record<string, HeapSizes>): MemorySample {
  return { commits, atMs: commits, heaps, diskBytes: {}, logs: {}, compacted: true };
}

/** The points of the polyline drawn in `color` inside the panel whose title names `id`. */
function linePoints(svg: string, id: string, color: string): Array<[number, number]> {
  const panel = svg.slice(svg.indexOf(`>${id}:`)).split('retained MiB')[1] ?? '';
  const match = new RegExp(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="([^"]*)"`).exec(panel);
  return (match?.[1] ?? '').split(' ').filter((pair) => pair !== '').map((pair) => pair.split(',').map(Number) as [number, number]);
}

describe('renderMemoryChart', () => {
  it('draws one panel per process, each part a line through every reading, a step in a part where it stepped', () => {
    const samples = [0, 500_000, 1_000_000].map((commits, index) => sample(commits, { 'node-a': heap(index === 2 ? 4 : 1), 'node-b': heap(1) }));
    const svg = renderMemoryChart('run', samples);
    expect(svg.match(/retained MiB after a compaction/g)).toHaveLength(2);
    const arrayBuffers = linePoints(svg, 'node-a', '#0a7f7f');
    const javaScript = linePoints(svg, 'node-a', '#1f6feb');
    expect(arrayBuffers).toHaveLength(3);
    // Higher on the page is a smaller y: the worker's ArrayBuffers stepped up at the last reading alone.
    expect(arrayBuffers[0]?.[1]).toBe(arrayBuffers[1]?.[1]);
    expect(arrayBuffers[2]?.[1]).toBeLessThan(arrayBuffers[1]?.[1] ?? 0);
    expect(javaScript[0]?.[1]).toBe(javaScript[2]?.[1]);
    // Evenly spaced commit marks are evenly spaced across the panel.
    const [first, middle, last] = arrayBuffers.map(([x]) => x);
    expect((middle ?? 0) - (first ?? 0)).toBeCloseTo((last ?? 0) - (middle ?? 0), 5);
    expect(svg).toContain('>1,000,000<');
  });

  it('leaves out a reading whose parts Chromium did not report, instead of drawing it at zero', () => {
    const samples = [sample(0, { 'node-a': heap(1) }), sample(10, { 'node-a': heap(1, Number.NaN) }), sample(20, { 'node-a': heap(1) })];
    const svg = renderMemoryChart('run', samples);
    expect(linePoints(svg, 'node-a', '#24292f')).toHaveLength(2);
    expect(svg).not.toContain('NaN');
  });
});
