// The SVG chart of a run, drawn by hand (no chart library): commits per second (from the cluster's
// commit index sampled by Node) and commit latency p50/p99 per second (the worst page's), against
// time since the run started, with the phases shaded and named. linePanel draws one panel of any
// chart (memory-chart.ts draws the memory phase's readings with it).
import type { SecondBucket } from '../pages/browser-load.ts';
import type { CommitSample } from './driving.ts';

export interface Phase {
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
}

export const width = 960;
export const panelHeight = 220;
export const margin = { left: 70, right: 20, top: 30, gap: 50, bottom: 40 };
/** Below the second panel: the time axis. */
const axisTop = margin.top + 16 + 2 * panelHeight + margin.gap + 14;
const plotWidth = width - margin.left - margin.right;

export const escape = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A point of a line: `at` on the panel's horizontal axis (a time in ms, a commit count). */
export interface Point {
  readonly at: number;
  readonly value: number;
}

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly Point[];
}

function rates(samples: readonly CommitSample[]): Point[] {
  return samples.slice(1).flatMap((sample, index) => {
    const previous = samples[index];
    if (previous === undefined || sample.atMs <= previous.atMs) return [];
    return [{ at: sample.atMs, value: Math.max(0, ((sample.commitIndex - previous.commitIndex) * 1000) / (sample.atMs - previous.atMs)) }];
  });
}

/** Ticks at 1, 2 or 5 times a power of ten, about five of them. */
export function niceMaximum(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= value) ?? 10 * power);
}

/** In the run's chart, a line breaks where samples stop for longer than this (no load, or a page closed). */
const gapMs = 2_500;

function segments(points: readonly Point[], gap: number): Point[][] {
  const result: Point[][] = [];
  let current: Point[] = [];
  for (const point of points) {
    const previous = current.at(-1);
    if (previous !== undefined && point.at - previous.at > gap) {
      result.push(current);
      current = [];
    }
    current.push(point);
  }
  if (current.length > 0) result.push(current);
  return result;
}

/** About the width of one character of the 10 px sans-serif phase names (in Chromium, 'saturation' is 44 px wide). */
const labelCharacterWidth = 4.5;

/** Each phase name's line: the first line that is free at its left edge (names go left to right). */
export function phaseLabels(labels: ReadonlyArray<{ name: string; left: number }>): Array<{ name: string; left: number; line: number }> {
  const lineEnds: number[] = [];
  return labels.map((label) => {
    let line = lineEnds.findIndex((end) => end <= label.left);
    if (line === -1) line = lineEnds.length;
    lineEnds[line] = label.left + label.name.length * labelCharacterWidth;
    return { ...label, line };
  });
}

export interface PanelOptions {
  readonly top: number;
  readonly title: string;
  /** The horizontal axis: from `start`, over `span`, in the points' `at` units. */
  readonly start: number;
  readonly span: number;
  readonly series: readonly Series[];
  /** Shaded and named spans of the horizontal axis. */
  readonly phases?: readonly Phase[];
  /** A line breaks where two points are further apart than this (Infinity: never). */
  readonly gap?: number;
  /** Dots on each point as well (few, sparse readings). */
  readonly markers?: boolean;
}

export function linePanel({ top, title, start, span, series, phases = [], gap = Number.POSITIVE_INFINITY, markers = false }: PanelOptions): string {
  const maximum = niceMaximum(Math.max(0, ...series.flatMap((line) => line.points.map((point) => point.value))));
  const x = (at: number): number => margin.left + ((at - start) / span) * plotWidth;
  const y = (value: number): number => top + panelHeight - (Math.min(value, maximum) / maximum) * panelHeight;
  const parts: string[] = [`<text x="${margin.left}" y="${top - 8}" font-size="13" font-weight="bold">${escape(title)}</text>`];
  phases.forEach((phase, index) => {
    const left = x(phase.startMs);
    parts.push(`<rect x="${left.toFixed(1)}" y="${top}" width="${Math.max(1, x(phase.endMs) - left).toFixed(1)}" height="${panelHeight}" fill="${index % 2 === 0 ? '#f0f4fa' : '#faf5ec'}"/>`);
  });
  // Names after every shading, so that no phase's shading covers its neighbour's name; a name that
  // would run into the one before (a short phase, such as the 5 s profiled window) goes a line lower.
  for (const label of phaseLabels(phases.map((phase) => ({ name: phase.name, left: x(phase.startMs) + 3 })))) {
    parts.push(`<text x="${label.left.toFixed(1)}" y="${top + 12 + label.line * 12}" font-size="10" fill="#666">${escape(label.name)}</text>`);
  }
  for (let tick = 0; tick <= 4; tick += 1) {
    const value = (maximum * tick) / 4;
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${(y(value) + 4).toFixed(1)}" font-size="10" text-anchor="end">${value.toLocaleString('en-US', { maximumFractionDigits: 1 })}</text>`);
  }
  series.forEach((line, index) => {
    // A line breaks where samples stop (no load, or a page closed): joining across would draw figures never measured.
    for (const segment of segments(line.points, gap)) {
      const path = segment.map((point) => `${x(point.at).toFixed(1)},${y(point.value).toFixed(1)}`).join(' ');
      parts.push(`<polyline fill="none" stroke="${line.color}" stroke-width="1.5" points="${path}"/>`);
    }
    if (markers) for (const point of line.points) parts.push(`<circle cx="${x(point.at).toFixed(1)}" cy="${y(point.value).toFixed(1)}" r="2" fill="${line.color}"/>`);
    parts.push(`<text x="${width - margin.right - 150}" y="${top + 14 + index * 14}" font-size="11" fill="${line.color}">${escape(line.label)}</text>`);
  });
  return parts.join('\n');
}

export function renderChart(title: string, samples: readonly CommitSample[], buckets: readonly SecondBucket[], phases: readonly Phase[]): string {
  const startMs = Math.min(samples[0]?.atMs ?? 0, ...phases.map((phase) => phase.startMs));
  const endMs = Math.max(samples.at(-1)?.atMs ?? 1, ...phases.map((phase) => phase.endMs));
  const spanMs = Math.max(1, endMs - startMs);
  const height = margin.top + 2 * panelHeight + margin.gap + margin.bottom;
  const secondsAxis: string[] = [];
  const stepSeconds = niceMaximum(spanMs / 1000 / 8);
  for (let second = 0; second * 1000 <= spanMs; second += stepSeconds) {
    const at = margin.left + ((second * 1000) / spanMs) * plotWidth;
    secondsAxis.push(`<text x="${at.toFixed(1)}" y="${axisTop}" font-size="10" text-anchor="middle">${second} s</text>`);
  }
  const latency = (pick: (bucket: SecondBucket) => number): Point[] => buckets.map((bucket) => ({ at: bucket.second * 1000 + 500, value: pick(bucket) }));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left}" y="16" font-size="12">${escape(title)}</text>`,
    linePanel({ top: margin.top + 16, title: 'commits per second (cluster)', start: startMs, span: spanMs, series: [{ label: 'commits/s', color: '#1f6feb', points: rates(samples) }], phases, gap: gapMs }),
    linePanel({
      top: margin.top + 16 + panelHeight + margin.gap,
      title: 'commit latency, ms (worst page, per second)',
      start: startMs,
      span: spanMs,
      series: [
        { label: 'p99', color: '#d1242f', points: latency((bucket) => bucket.p99Ms) },
        { label: 'p50', color: '#1a7f37', points: latency((bucket) => bucket.p50Ms) },
      ],
      phases,
      gap: gapMs,
    }),
    ...secondsAxis,
    '</svg>',
  ].join('\n');
}
