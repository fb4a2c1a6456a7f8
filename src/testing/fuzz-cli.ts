// `npm run fuzz [-- --frames N --seed S]`: a long hostile-frame run (default one million frames).
import { parseArgs } from 'node:util';
import { runFuzz } from './fuzz.ts';

const usage = 'usage: npm run fuzz -- [--frames N (default 1000000)] [--seed S (default 1)]';

/** A mistyped flag used to be ignored, so a run of the defaults (a million frames) passed for the run asked for. */
function refuse(message: string): never {
  console.error(`npm run fuzz: ${message}\n${usage}`);
  process.exit(2);
}

function parseCommandLine(): { frames?: string | undefined; seed?: string | undefined } {
  try {
    return parseArgs({ options: { frames: { type: 'string' }, seed: { type: 'string' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return refuse(error instanceof Error ? error.message : String(error));
  }
}
const values = parseCommandLine();

const argument = (name: 'frames' | 'seed', fallback: number): number => {
  const raw = values[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (raw === '' || !Number.isSafeInteger(value) || value < 0) refuse(`--${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
};

const frames = argument('frames', 1_000_000);
const seed = argument('seed', 1);
const started = performance.now();
try {
  const result = await runFuzz({ seed, frames });
  console.log(`${result.frames} hostile frames (${result.decodable} decodable lies from strangers) into a 3-node cluster: ${result.acknowledged} proposals committed, ${result.virtualMs} ms virtual, ${((performance.now() - started) / 1000).toFixed(1)} s; every safety checker held`);
} catch (error) {
  console.log(`FAIL: ${error instanceof Error ? error.message : String(error)}\n  replay: npm run fuzz -- --frames ${frames} --seed ${seed}`);
  process.exit(1);
}
