import { describe, expect, it } from 'vitest';
import { SimulationDigest } from './simulation-digest.ts';

function digestOf(...records: Array<[string, ...unknown[]]>): string {
  const digest = new SimulationDigest();
  for (const [kind, ...details] of records) digest.record(kind, ...details);
  return digest.hex;
}

describe('SimulationDigest', () => {
  it('gives the same digest for the same observations, whatever the order of object keys', () => {
    expect(digestOf(['trace', { type: 'timeout', node: 'a', term: 2 }])).toBe(digestOf(['trace', { term: 2, node: 'a', type: 'timeout' }]));
    expect(digestOf(['send', 'a', 'b', 5, new Uint8Array([1, 2, 3])])).toMatch(/^[0-9a-f]{16}$/);
  });

  it('tells apart observations that differ in a value, a type, their order or their grouping', () => {
    const base = digestOf(['send', 'a', 'b', new Uint8Array([1, 2, 3])], ['trace', { term: 1 }]);
    expect(digestOf(['send', 'a', 'b', new Uint8Array([1, 2, 4])], ['trace', { term: 1 }])).not.toBe(base);
    expect(digestOf(['send', 'a', 'b', [1, 2, 3]], ['trace', { term: 1 }])).not.toBe(base);
    expect(digestOf(['trace', { term: 1 }], ['send', 'a', 'b', new Uint8Array([1, 2, 3])])).not.toBe(base);
    expect(digestOf(['send', 'ab', '', new Uint8Array([1, 2, 3])], ['trace', { term: 1 }])).not.toBe(base);
    expect(digestOf(['trace', { term: '1' }])).not.toBe(digestOf(['trace', { term: 1 }]));
    expect(digestOf(['trace', { term: undefined }])).not.toBe(digestOf(['trace', {}]));
  });
});
