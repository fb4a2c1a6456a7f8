// Guards: frames handed over as Node Buffers decode right when the transport reuses its buffer.
// The decoder remembers the bytes of the last id it decoded, to skip decoding the same few ids
// in every frame; it kept them with slice(), which on a Node Buffer is a view of the frame, so a
// transport that read the next frame into the same buffer changed the remembered bytes with it,
// and a different id in the same place decoded as the old one. Found while fixing the review of
// the session's fixes (2026-12-07, third session: slice() is a view on a Node Buffer).
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { clientId } from '../core/types.ts';
import { decodeMessage, encodeMessage } from './index.ts';

const forward = (client: string) => encodeMessage({ type: 'forwardPropose', correlationId: 1, command: new Uint8Array([1]), dedupKey: { clientId: clientId(client), requestId: 1 }, proposerCommitIndex: 0 });

describe('a transport that reads each frame into the same Node Buffer', () => {
  it('decodes the id the frame holds, not the one the previous frame held there', () => {
    const first = forward('alpha');
    const second = forward('bravo');
    expect(second.length).toBe(first.length);
    const buffer = Buffer.alloc(first.length);
    buffer.set(first);
    const decodedFirst = decodeMessage(buffer);
    buffer.set(second);
    const decodedSecond = decodeMessage(buffer);
    const clientOf = (decoded: typeof decodedFirst): string | undefined => (decoded.ok && decoded.value.type === 'forwardPropose' ? decoded.value.dedupKey?.clientId : undefined);
    expect([clientOf(decodedFirst), clientOf(decodedSecond)]).toEqual(['alpha', 'bravo']);
  });
});
