// Runs a command inside a loopback-only network namespace when root on Linux (ENVIRONMENT.md),
// so browser benchmarks reach nothing but 127.0.0.1: `node scripts/run-loopback.mjs <command...>`.
import { spawnSync } from 'node:child_process';
import { findChromium, loopbackOnly } from './browser-env.mjs';

if (findChromium() === null) process.exit(1);
const command = process.argv.slice(2).map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ');
const [program, args] = loopbackOnly(command);
const result = spawnSync(program, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
