// What this machine charges for the operations every hop between threads and processes is made
// of: a system call, and waking another thread and being woken back (a futex round trip, which
// is how Chromium's threads hand each other tasks, IPC included). On a virtual machine these can
// cost many times what they cost on bare metal, and a browser cluster makes thousands of such
// hops per second (bench:browser-diagnose shows the threads), so bench:browser's figures are
// read against these.
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';

/** Microseconds per `fstat` system call, less the loop's own cost. */
function systemCallMicroseconds(calls: number): number {
  const descriptor = fs.openSync(process.execPath, 'r');
  try {
    const loopStarted = performance.now();
    let sink = 0;
    for (let call = 0; call < calls; call += 1) sink += call & 1;
    const loopMs = performance.now() - loopStarted;
    const started = performance.now();
    for (let call = 0; call < calls; call += 1) sink += fs.fstatSync(descriptor).size & 1;
    const elapsedMs = performance.now() - started - loopMs;
    if (sink < 0) console.log(sink);
    return (elapsedMs * 1000) / calls;
  } finally {
    fs.closeSync(descriptor);
  }
}

/** Microseconds for one thread to wake another through a futex and be woken back (median of rounds). */
async function wakeRoundTripMicroseconds(roundTrips: number): Promise<number> {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const echo = new Worker(
    `const { workerData } = require('node:worker_threads');
     const cell = new Int32Array(workerData);
     for (let turn = 1; ; turn += 2) {
       Atomics.wait(cell, 0, turn - 1);
       if (Atomics.load(cell, 1) === 1) break;
       Atomics.store(cell, 0, turn + 1);
       Atomics.notify(cell, 0);
     }`,
    { eval: true, workerData: shared.buffer },
  );
  await new Promise((resolve) => echo.once('online', resolve));
  const rounds: number[] = [];
  let turn = 0;
  for (let round = 0; round < 5; round += 1) {
    const started = performance.now();
    for (let trip = 0; trip < roundTrips; trip += 1) {
      Atomics.store(shared, 0, turn + 1);
      Atomics.notify(shared, 0);
      Atomics.wait(shared, 0, turn + 1);
      turn += 2;
    }
    rounds.push(((performance.now() - started) * 1000) / roundTrips);
  }
  Atomics.store(shared, 1, 1);
  Atomics.store(shared, 0, turn + 1);
  Atomics.notify(shared, 0);
  await echo.terminate();
  rounds.sort((left, right) => left - right);
  return rounds[2] as number;
}

export async function machineCosts(): Promise<string[]> {
  const systemCall = systemCallMicroseconds(200_000);
  const wake = await wakeRoundTripMicroseconds(20_000);
  return [`system call (fstat): ${systemCall.toFixed(2)} µs`, `thread wake-up round trip (futex, two threads): ${wake.toFixed(1)} µs`];
}
