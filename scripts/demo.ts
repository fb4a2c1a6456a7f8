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

const host = option('host', '127.0.0.1');
const port = Number(option('port', '5173'));
const signalPort = Number(option('signal-port', '8787'));

const signaling = await startSignalingServer({ port: signalPort, host, onEvent: (event) => console.log(`signaling: ${describeServerEvent(event)}`) });
const vite = await createServer({ configFile: 'demo/vite.config.ts', server: { host, port, strictPort: true }, logLevel: 'warn' });
await vite.listen();
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
