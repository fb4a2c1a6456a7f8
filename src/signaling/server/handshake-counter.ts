// Sockets per remote address still in the handshake (connected, not yet joined): what
// `maxHandshakesPerAddress` bounds, so one host that opens sockets and says nothing cannot fill
// the server's connections for everyone.
export interface HandshakeCounter {
  /**
   * Counts one more socket of `address` and returns the call that ends its handshake (joined,
   * or gone; a second call does nothing), or null when the address is at the limit. Sockets
   * without an address (a closed one) are not counted.
   */
  begin(address: string | null): (() => void) | null;
}

export function createHandshakeCounter(limit: number): HandshakeCounter {
  const pending = new Map<string, number>();
  return {
    begin(address) {
      if (address === null) return () => undefined;
      const count = pending.get(address) ?? 0;
      if (count >= limit) return null;
      pending.set(address, count + 1);
      let settled = false;
      return () => {
        if (settled) return;
        settled = true;
        const left = (pending.get(address) ?? 1) - 1;
        if (left === 0) pending.delete(address);
        else pending.set(address, left);
      };
    },
  };
}
