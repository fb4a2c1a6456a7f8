// The transport contract over the in-process loopback network.
import { createLoopbackNetwork } from './loopback.ts';
import { describeTransportConformance } from './transport-conformance.ts';

describeTransportConformance('loopback', async (ids) => {
  const network = createLoopbackNetwork();
  return { transports: ids.map((id) => network.transport(id)), dispose: () => undefined };
});
