// `npm run demo`: the signaling server and the demo app's Vite server in one command, on embedded
// defaults (signaling on 127.0.0.1:8787, the app on 127.0.0.1:5173). Prints the URL to open in
// several tabs, windows or browsers. Ctrl-C stops both.
//   npm run demo -- --host 0.0.0.0 --port 5173 --signal-port 8787
import { createServer } from 'vite';
import { startSignalingServer } from '../src/signaling/server/index.ts';
import { describeServerEvent } from '../src/signaling/server/index.ts';

function option(name: string, fallback: string): string {
  const position = process.argv.indexOf(`--${name}`);
  return position === -1 ? (process.env[`RAFTMESH_DEMO_${name.toUpperCase().replace('-', '_')}`] ?? fallback) : (process.argv[position + 1] ?? fallback);
}

/** A newcomer's mistake ends in one line saying what to do, not a stack trace. */
function fail(message: string): never {
  console.error(`npm run demo: ${message}`);
  process.exit(1);
}

function portOption(name: string, fallback: string): number {
  const text = option(name, fallback);
  const value = /^[0-9]{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1 && value <= 65_535)) fail(`--${name} must be a port number from 1 to 65535, not ${JSON.stringify(text)}`);
  return value;
}

/** What to say when a port cannot be taken: the usual cause is a demo already running. */
function portTaken(error: unknown, what: string, port: number, flag: string): never {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const text = error instanceof Error ? error.message : String(error);
  if (code === 'EADDRINUSE' || /already in use/i.test(text)) fail(`port ${port} (${what}) is in use, perhaps by another \`npm run demo\`: stop it, or choose another port with \`npm run demo -- ${flag} N\``);
  if (code === 'EADDRNOTAVAIL') fail(`--host ${host} is not an address of this machine (${what} cannot listen on it)`);
  if (code === 'EACCES') fail(`port ${port} (${what}) needs privileges here: choose one above 1023 with \`npm run demo -- ${flag} N\``);
  fail(`${what} could not start on ${host}:${port}: ${text}`);
}

const host = option('host', '127.0.0.1');
const port = portOption('port', '5173');
const signalPort = portOption('signal-port', '8787');
if (port === signalPort) fail(`--port and --signal-port are both ${port}: the app and the signaling server need a port each`);

const signaling = await startSignalingServer({ port: signalPort, host, onEvent: (event) => console.log(`signaling: ${describeServerEvent(event)}`) }).catch((error: unknown) =>
  portTaken(error, 'the signaling server', signalPort, '--signal-port'),
);
const vite = await createServer({ configFile: 'demo/vite.config.ts', server: { host, port, strictPort: true }, logLevel: 'warn' });
await vite.listen().catch(async (error: unknown) => {
  await Promise.allSettled([vite.close(), signaling.close()]);
  portTaken(error, 'the demo app', port, '--port');
});
const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
const signalParameter = signalPort === 8787 && shownHost === '127.0.0.1' ? '' : `&signal=${encodeURIComponent(`ws://${shownHost}:${signalPort}`)}`;
console.log(`
raftmesh demo
  signaling server  ${signaling.url}
  app               http://${shownHost}:${port}/?room=board${signalParameter}

Open the app URL in several tabs, windows or browsers: they form one Raft cluster.
Add &secret=... to the URL for a room secret, &name=... to pick your name. Ctrl-C stops.`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await vite.close();
  await signaling.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
