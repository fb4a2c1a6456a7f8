// The memory phase's readings as an SVG chart beside the run's (`<run>-memory.svg`): one panel per
// browser process, its page's and its engine worker's retained memory by part (V8's JS heap,
// Blink's heap, ArrayBuffer backing stores; cdp.ts) and their total, against the commits made
// when each was read. "Flat" is judged on the cluster's total (report.ts); the parts say which
// one moved when a total does (the run of 2026-12-07 01:56 UTC read 1.11, and its JSON then held
// only totals).
import type { HeapParts, HeapSizes } from './cdp.ts';
import { escape, linePanel, margin, niceMaximum, panelHeight, width, type Series } from './chart.ts';
import type { MemorySample } from './memory-phase.ts';

const mebibyte = 1024 * 1024;

const lines: ReadonlyArray<{ readonly label: string; readonly color: string; readonly bytes: (heap: HeapSizes) => number }> = [
  { label: 'total (page + worker)', color: '#24292f', bytes: (heap) => heap.pageBytes + heap.workerBytes },
  { label: 'worker JS heap', color: '#1f6feb', bytes: (heap) => heap.workerParts.javaScriptBytes },
  { label: 'worker Blink heap', color: '#8250df', bytes: (heap) => heap.workerParts.blinkBytes },
  { label: 'worker ArrayBuffers', color: '#0a7f7f', bytes: (heap) => heap.workerParts.arrayBufferBytes },
  { label: 'page JS heap', color: '#d1242f', bytes: (heap) => heap.pageParts.javaScriptBytes },
  { label: 'page Blink heap', color: '#bc4c00', bytes: (heap) => heap.pageParts.blinkBytes },
  { label: 'page ArrayBuffers', color: '#9a6700', bytes: (heap) => heap.pageParts.arrayBufferBytes },
];

/** A part Chromium did not report (NaN, HeapParts) is left out of its line rather than drawn at zero. */
const reported = (parts: HeapParts): boolean => Object.values(parts).every(Number.isFinite);

export function renderMemoryChart(title: string, samples: readonly MemorySample[]): string {
  const processes = [...new Set(samples.flatMap((sample) => Object.keys(sample.heaps)))].sort();
  const lastCommits = Math.max(1, ...samples.map((sample) => sample.commits));
  const panelTop = (position: number): number => margin.top + 16 + position * (panelHeight + margin.gap);
  const axisTop = panelTop(processes.length - 1) + panelHeight + 14;
  const height = axisTop + margin.bottom;
  const panels = processes.map((id, position) => {
    const series: Series[] = lines.map((line) => ({
      label: line.label,
      color: line.color,
      points: samples.flatMap((sample) => {
        const heap = sample.heaps[id];
        if (heap === undefined || !reported(heap.pageParts) || !reported(heap.workerParts)) return [];
        return [{ at: sample.commits, value: line.bytes(heap) / mebibyte }];
      }),
    }));
    return linePanel({ top: panelTop(position), title: `${id}: retained MiB after a compaction, page and engine worker`, start: 0, span: lastCommits, series, markers: true });
  });
  const commitsAxis: string[] = [];
  const step = niceMaximum(lastCommits / 8);
  for (let commits = 0; commits <= lastCommits; commits += step) {
    const at = margin.left + (commits / lastCommits) * (width - margin.left - margin.right);
    commitsAxis.push(`<text x="${at.toFixed(1)}" y="${axisTop}" font-size="10" text-anchor="middle">${commits.toLocaleString('en-US')}</text>`);
  }
  commitsAxis.push(`<text x="${width - margin.right}" y="${axisTop + 16}" font-size="10" text-anchor="end">commits since the memory phase began</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left}" y="16" font-size="12">${escape(title)}</text>`,
    ...panels,
    ...commitsAxis,
    '</svg>',
  ].join('\n');
}
