// Page side of bench/datachannel-transfer.ts. Two RTCPeerConnections in this page: the far one
// echoes small frames and acknowledges every 64th large one; the near one's channel is either
// transferred to a worker, or kept here and bridged to the worker over a MessagePort.
declare global {
  interface Window {
    channelTransferBench: { run(mode: 'channel' | 'port', trips: number, bytes: number): Promise<{ p50: number; p99: number; smallMiBps: number; largeMiBps: number }> };
  }
}

/** Creates both ends synchronously (a channel is transferable only in the task that created it). */
function createPair(): { near: RTCPeerConnection; far: RTCPeerConnection; nearChannel: RTCDataChannel; connect: () => Promise<void> } {
  const near = new RTCPeerConnection({ iceServers: [] });
  const far = new RTCPeerConnection({ iceServers: [] });
  near.onicecandidate = (event) => event.candidate && void far.addIceCandidate(event.candidate);
  far.onicecandidate = (event) => event.candidate && void near.addIceCandidate(event.candidate);
  const nearChannel = near.createDataChannel('bench', { negotiated: true, id: 0 });
  const farChannel = far.createDataChannel('bench', { negotiated: true, id: 0 });
  farChannel.binaryType = 'arraybuffer';
  let received = 0;
  farChannel.onmessage = (event: MessageEvent<ArrayBuffer>) => {
    if (event.data.byteLength <= 100) farChannel.send(event.data);
    else if ((received += 1) % 64 === 0) farChannel.send(new Uint8Array(1));
  };
  const connect = async (): Promise<void> => {
    await near.setLocalDescription(await near.createOffer());
    await far.setRemoteDescription(near.localDescription!);
    await far.setLocalDescription(await far.createAnswer());
    await near.setRemoteDescription(far.localDescription!);
  };
  return { near, far, nearChannel, connect };
}

window.channelTransferBench = {
  async run(mode, trips, bytes) {
    const worker = new Worker(new URL('./datachannel-transfer-worker.ts', import.meta.url), { type: 'module' });
    const pair = createPair();
    const result = new Promise<{ p50: number; p99: number; smallMiBps: number; largeMiBps: number }>((resolve) => (worker.onmessage = (event) => resolve(event.data)));
    if (mode === 'channel') {
      // Transferred in the task that created it, before any send (ENVIRONMENT.md).
      worker.postMessage({ mode, channel: pair.nearChannel, trips, bytes }, [pair.nearChannel as unknown as Transferable]);
    } else {
      const { port1, port2 } = new MessageChannel();
      const channel = pair.nearChannel;
      channel.binaryType = 'arraybuffer';
      let incoming: ArrayBuffer[] = [];
      channel.onmessage = (event: MessageEvent<ArrayBuffer>) => {
        if (incoming.length === 0) setTimeout(() => {
          const batch = incoming;
          incoming = [];
          port1.postMessage(batch, batch);
        }, 0);
        incoming.push(event.data);
      };
      const opened = new Promise<void>((resolve) => (channel.readyState === 'open' ? resolve() : channel.addEventListener('open', () => resolve(), { once: true })));
      port1.onmessage = async (event: MessageEvent<ArrayBuffer[]>) => {
        await opened;
        for (const frame of event.data) channel.send(frame);
      };
      worker.postMessage({ mode, port: port2, trips, bytes }, [port2]);
    }
    await pair.connect();
    const figures = await result;
    worker.terminate();
    pair.near.close();
    pair.far.close();
    return figures;
  },
};
