// `npm run chaos:rooms -- [--seed S] [--seconds N] [--tabs N] [--edge-peer [--witness] [--edge-default-timeouts]] [--lose-database-on-kill]`: one campaign of faults against
// a room of real Chromium tabs (campaign.ts), inside the loopback-only namespace (the npm script
// runs this through scripts/run-loopback.mjs). Serves the chaos page with the Vite dev server, no
// watching or hot reload (an edit elsewhere in the tree must not reload a page mid-run). Exits 1
// on a failed verdict, after printing the seed, the schedule, the replay command and where the
// history was written.
import type { AddressInfo } from 'node:net';
import { createServer } from 'vite';
import { runCampaign } from './campaign.ts';
import { reportLines, writeHistory } from './report.ts';

interface Arguments {
  readonly seed: number;
  readonly seconds: number;
  readonly edgePeer: boolean;
  /** The edge peer runs as the room's witness (`raftmesh-peer --witness`). */
  readonly witness: boolean;
  readonly edgeDefaultTimeouts: boolean;
  readonly loseDatabaseOnKill: boolean;
  /** A room of this many tabs, never more (default: four, growing to five). */
  readonly tabs: number | undefined;
}

const usage = 'usage: npm run chaos:rooms -- [--seed S] [--seconds N (10..3600, default 180)] [--tabs N (2..5)] [--edge-peer [--witness] [--edge-default-timeouts]] [--lose-database-on-kill]';
const switches = new Set(['--edge-peer', '--witness', '--edge-default-timeouts', '--lose-database-on-kill']);

function parseArguments(argv: readonly string[]): Arguments {
  let seed = Math.floor(Math.random() * 1_000_000);
  let seconds = 180;
  let edgePeer = false;
  let witness = false;
  let edgeDefaultTimeouts = false;
  let loseDatabaseOnKill = false;
  let tabs: number | undefined;
  for (let position = 0; position < argv.length; position += 1) {
    const flag = argv[position];
    const value = Number(argv[position + 1]);
    if (flag === '--edge-peer') edgePeer = true;
    else if (flag === '--witness') witness = true;
    else if (flag === '--edge-default-timeouts') edgeDefaultTimeouts = true;
    else if (flag === '--lose-database-on-kill') loseDatabaseOnKill = true;
    else if (flag === '--seed' && Number.isSafeInteger(value) && value >= 0) seed = value;
    else if (flag === '--seconds' && Number.isInteger(value) && value >= 10 && value <= 3_600) seconds = value;
    else if (flag === '--tabs' && Number.isInteger(value) && value >= 2 && value <= 5) tabs = value;
    else throw new Error(`bad argument ${flag ?? ''} ${argv[position + 1] ?? ''}\n${usage}`);
    if (!switches.has(flag ?? '')) position += 1;
  }
  if (edgeDefaultTimeouts && !edgePeer) throw new Error(`--edge-default-timeouts needs --edge-peer\n${usage}`);
  if (witness && !edgePeer) throw new Error(`--witness needs --edge-peer\n${usage}`);
  // A fault needs three members live (schedule.ts): two tabs alone would run without any.
  if (tabs !== undefined && tabs + (edgePeer ? 1 : 0) < 3) throw new Error(`--tabs ${tabs} needs --edge-peer: a fault needs three members live\n${usage}`);
  return { seed, seconds, edgePeer, witness, edgeDefaultTimeouts, loseDatabaseOnKill, tabs };
}

async function main(): Promise<number> {
  let args: Arguments;
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (error) {
    console.error(`npm run chaos:rooms: ${error instanceof Error ? error.message : String(error)}`); // the message ends with the usage
    return 2;
  }
  const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { host: '127.0.0.1', port: 0, hmr: false, watch: null } });
  await server.listen();
  const address = server.httpServer?.address() as AddressInfo | null | undefined;
  if (address === null || address === undefined) throw new Error('the page server has no address');
  const log = (line: string): void => console.log(line);
  log(`room chaos: seed ${args.seed}, ${args.seconds} s${args.tabs === undefined ? '' : `, ${args.tabs} tabs`}${args.witness ? ', the edge peer as witness' : args.edgePeer ? ', edge peer' : ''}, ${new Date().toISOString()}`);
  try {
    const result = await runCampaign({ seed: args.seed, seconds: args.seconds, baseUrl: `http://127.0.0.1:${address.port}`, pace: 'long', edgePeer: args.edgePeer, witness: args.witness, ...(args.tabs === undefined ? {} : { tabs: args.tabs }), edgeDefaultTimeouts: args.edgeDefaultTimeouts, loseDatabaseOnKill: args.loseDatabaseOnKill, convergenceTimeoutMs: 240_000, log });
    const passed = result.verdict.passed && result.harnessError === null;
    for (const line of reportLines(result, passed ? null : writeHistory(result))) log(line);
    return passed ? 0 : 1;
  } finally {
    await server.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(2);
  },
);
