// Summarizes a .cpuprofile written by bench:browser (the leader worker during saturation): self
// time per function and per source file, heaviest first, so the README can say where time goes.
// `node --import tsx bench/browser/profile-summary.ts bench/results/<run>-leader-worker.cpuprofile`
import fs from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: profile-summary.ts <file.cpuprofile>');
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfByFunction = new Map<string, number>();
const selfByFile = new Map<string, number>();
let totalMicroseconds = 0;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index] ?? 0;
  const frame = byId.get(id)?.callFrame;
  if (frame === undefined) return;
  totalMicroseconds += delta;
  const source = frame.url.replace(/^.*?\/(src|node_modules|bench)\//, '$1/').replace(/\?.*$/, '') || '(native)';
  const name = `${frame.functionName || '(anonymous)'}  ${source}:${frame.lineNumber + 1}`;
  selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + delta);
  selfByFile.set(source, (selfByFile.get(source) ?? 0) + delta);
});
const top = (table: Map<string, number>, count: number): string =>
  [...table]
    .sort((left, right) => right[1] - left[1])
    .slice(0, count)
    .map(([name, microseconds]) => `${((100 * microseconds) / totalMicroseconds).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
console.log(`${(totalMicroseconds / 1e6).toFixed(1)} s sampled\n\nself time by function:\n${top(selfByFunction, 30)}\n\nself time by file:\n${top(selfByFile, 15)}`);
