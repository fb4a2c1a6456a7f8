// HMAC-SHA-256 through WebCrypto (`globalThis.crypto.subtle`), so the same code runs in browsers,
// workers and Node 20. Every MAC'd message is a JSON array beginning with a purpose label:
// JSON keeps fields unambiguous (no "ab"+"c" = "a"+"bc"), and the label keeps a proof made for
// one purpose from being replayed as another.
const encoder = new TextEncoder();

function subtle(): SubtleCrypto {
  const crypto = globalThis.crypto;
  if (crypto?.subtle === undefined) {
    throw new Error('WebCrypto (crypto.subtle) is unavailable: a secure context (https or localhost) is required');
  }
  return crypto.subtle;
}

export function bytesToHex(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}

export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new RangeError('expected lowercase hex with an even number of digits');
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index++) bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}

/** 32 random bytes as hex: nonces are unpredictable so a recorded proof never answers a new challenge. */
export function randomNonce(): string {
  return bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(32)));
}

export function importHmacKey(keyBytes: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return subtle().importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

export function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  if (secret.length === 0) throw new RangeError('a room secret must not be empty');
  return encoder.encode(secret);
}

export async function hmacHex(key: CryptoKey, fields: readonly string[]): Promise<string> {
  const signature = await subtle().sign('HMAC', key, encoder.encode(JSON.stringify(fields)));
  return bytesToHex(new Uint8Array(signature));
}

/** Constant-time comparison (WebCrypto's verify), so timing does not leak how much of a proof matched. */
export async function hmacVerify(key: CryptoKey, fields: readonly string[], proofHex: string): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/.test(proofHex)) return false;
  return subtle().verify('HMAC', key, hexToBytes(proofHex), encoder.encode(JSON.stringify(fields)));
}
