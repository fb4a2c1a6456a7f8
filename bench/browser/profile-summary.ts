// Summarizes a profile written by bench:browser or bench:browser-diagnose, heaviest first, so the
// README can say where time or memory goes:
// - a .cpuprofile (CPU profiler): self time per function and per source file;
// - a .heapprofile (sampling heap profiler, freed objects included): bytes allocated per
//   function and per source file, with the call chain each function's allocations came through
//   most, since the allocating function alone is often a small helper many callers share.
// `node --import tsx bench/browser/profile-summary.ts bench/results/<run>-<node>-worker.cpuprofile`
import fs from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: CallFrame }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

interface HeapProfileNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly HeapProfileNode[];
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: profile-summary.ts <file.cpuprofile | file.heapprofile>');
const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile | { readonly head: HeapProfileNode };

const sourceOf = (frame: CallFrame): string => frame.url.replace(/^.*?\/(src|node_modules|bench)\//, '$1/').replace(/\?.*$/, '') || '(native)';
const nameOf = (frame: CallFrame): string => `${frame.functionName || '(anonymous)'}  ${sourceOf(frame)}:${frame.lineNumber + 1}`;

function add(table: Map<string, number>, key: string, amount: number): void {
  table.set(key, (table.get(key) ?? 0) + amount);
}

function top(table: ReadonlyMap<string, number>, total: number, count: number): string {
  return [...table]
    .sort((left, right) => right[1] - left[1])
    .slice(0, count)
    .map(([name, amount]) => `${((100 * amount) / total).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
}

if ('head' in parsed) {
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  // For each function, the bytes per call chain (its three nearest callers) it allocated through.
  const chains = new Map<string, Map<string, number>>();
  let totalBytes = 0;
  const walk = (node: HeapProfileNode, callers: readonly string[]): void => {
    const name = nameOf(node.callFrame);
    if (node.selfSize > 0) {
      totalBytes += node.selfSize;
      add(byFunction, name, node.selfSize);
      add(byFile, sourceOf(node.callFrame), node.selfSize);
      const perChain = chains.get(name) ?? new Map<string, number>();
      chains.set(name, perChain);
      add(perChain, callers.slice(-3).reverse().join(' ← ') || '(root)', node.selfSize);
    }
    for (const child of node.children) walk(child, [...callers, node.callFrame.functionName || '(anonymous)']);
  };
  walk(parsed.head, []);
  const heaviest = [...byFunction].sort((left, right) => right[1] - left[1]).slice(0, 30);
  const lines = heaviest.map(([name, bytes]) => {
    const [chain] = [...(chains.get(name) ?? new Map<string, number>())].sort((left, right) => right[1] - left[1]);
    const through = chain === undefined ? '' : `\n          mostly ← ${chain[0]} (${((100 * chain[1]) / bytes).toFixed(0)} %)`;
    return `${((100 * bytes) / totalBytes).toFixed(1).padStart(5)}%  ${name}${through}`;
  });
  console.log(`${(totalBytes / 1048576).toFixed(1)} MiB allocated (sampled estimate)\n\nbytes allocated by function:\n${lines.join('\n')}\n\nbytes allocated by file:\n${top(byFile, totalBytes, 15)}`);
} else {
  const byId = new Map(parsed.nodes.map((node) => [node.id, node]));
  const selfByFunction = new Map<string, number>();
  const selfByFile = new Map<string, number>();
  let totalMicroseconds = 0;
  parsed.samples.forEach((id, index) => {
    const delta = parsed.timeDeltas[index] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return;
    totalMicroseconds += delta;
    add(selfByFunction, nameOf(frame), delta);
    add(selfByFile, sourceOf(frame), delta);
  });
  console.log(`${(totalMicroseconds / 1e6).toFixed(1)} s sampled\n\nself time by function:\n${top(selfByFunction, totalMicroseconds, 30)}\n\nself time by file:\n${top(selfByFile, totalMicroseconds, 15)}`);
}
