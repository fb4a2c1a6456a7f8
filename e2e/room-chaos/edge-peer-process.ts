// The edge peer's process in a campaign: the real `raftmesh-peer` (src/edge/run-peer.ts: same
// flags, storage, signals and exit codes as the published command) on node-datachannel wrapped by
// cuttable-webrtc.ts, taking "cut" and "connect" lines on stdin from the harness (edge-peer.ts).
// Signals are not used for this: Node reserves SIGUSR1 for its inspector.
import { createInterface } from 'node:readline';
import { exitWithStartFailure } from '../../src/edge/cli-exit.ts';
import { runPeer } from '../../src/edge/run-peer.ts';
import { cuttableWebRtc } from './cuttable-webrtc.ts';

const network = cuttableWebRtc(await import('node-datachannel/polyfill'));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== 'cut' && line !== 'connect') return;
  network.setConnected(line === 'connect');
  console.log(`${new Date().toISOString()} partition: ${line}`);
});
runPeer(process.argv.slice(2), process.env, network.webrtc).catch(exitWithStartFailure);
