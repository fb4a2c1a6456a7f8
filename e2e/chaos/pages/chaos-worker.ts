// The engine's worker of a chaos page: the library's own worker entry (exposeWorkerNode) plus the
// network fault (network-fault.ts), installed before the node exists so every data channel handed
// to this worker passes through it. The page drives the fault over a BroadcastChannel named after
// the node (the Worker's own port belongs to Comlink).
import { exposeWorkerNode } from '../../../src/worker.ts';
import { faultChannelName, installNetworkFault, type FaultCommand, type FaultReply } from './network-fault.ts';

const self = (globalThis as unknown as { name: string }).name;
const fault = installNetworkFault();
const faults = new BroadcastChannel(faultChannelName(self));
const reply = (message: FaultReply): void => faults.postMessage(message);
faults.addEventListener('message', (event: MessageEvent<FaultCommand>) => {
  const command = event.data;
  switch (command.type) {
    case 'partition':
      return fault.setPartitioned(command.partitioned);
    case 'closeChannels':
      return reply({ type: 'channelsClosed', requestId: command.requestId, closed: fault.closeChannels() });
    case 'hello':
      return;
  }
});
// A worker started during a partition asks the page for the current state.
reply({ type: 'ready', installed: fault.installed });

exposeWorkerNode(globalThis as unknown as Parameters<typeof exposeWorkerNode>[0]);
