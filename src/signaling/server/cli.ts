#!/usr/bin/env node
// `npx raftmesh-signal --port 8787`: the signaling server in one command (cli-arguments.ts has
// the flags). One line per join, leave and refusal on stdout; SIGINT/SIGTERM close every client
// with a `server-closing` frame, stop listening and exit 0.
import process from 'node:process';
import { deriveAdmissionKey } from '../admission.ts';
import { deriveKeyRoom, parseCliArguments, usage } from './cli-arguments.ts';
import { describeServerEvent } from './events.ts';
import { startSignalingServer } from './signaling-server.ts';

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const room = deriveKeyRoom(process.argv.slice(2));
  if (room !== null) {
    console.log(await deriveAdmissionKey(await readStdin(), room));
    return;
  }
  const config = parseCliArguments(process.argv.slice(2), process.env);
  if (config.help) {
    console.log(usage);
    return;
  }
  const server = await startSignalingServer({
    port: config.port,
    host: config.host,
    ...(config.rooms === undefined ? {} : { rooms: config.rooms }),
    allowUnlistedRooms: config.allowUnlistedRooms,
    onEvent: (event) => console.log(`${new Date().toISOString()} ${describeServerEvent(event)}`),
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing ${server.stats().connections} connections`);
    server.close().then(
      () => {
        console.log('raftmesh-signal stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`raftmesh-signal: error while closing: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Announced only now: whoever waits for this line may stop the server at once, and must get
  // the clean shutdown above rather than the default signal death.
  const rooms = config.rooms === undefined ? 'every room open' : `${Object.keys(config.rooms).length} configured rooms${config.allowUnlistedRooms ? ' (others open)' : ''}`;
  console.log(`raftmesh-signal listening on ${server.url} (${rooms})`);
}

main().catch((error: unknown) => {
  console.error(`raftmesh-signal: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
