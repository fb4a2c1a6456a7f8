// `npm run fuzz [-- --frames N --seed S]`: a long hostile-frame run (default one million frames).
import { runFuzz } from './fuzz.ts';

const argument = (name: string, fallback: number): number => {
  const position = process.argv.indexOf(`--${name}`);
  const value = position === -1 ? fallback : Number(process.argv[position + 1]);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`--${name} must be a non-negative integer`);
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
