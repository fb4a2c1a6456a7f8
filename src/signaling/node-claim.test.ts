import { describe, expect, it } from 'vitest';
import { seededRandom } from '../testing/seeded-random.ts';
import { claimedNodeId, claimProvesNodeId, isClaimedNodeId, isNodeClaim, mintNodeClaim } from './node-claim.ts';

describe('claimed node ids', () => {
  it('a claim names one id, which it proves and no other claim does', () => {
    const claim = mintNodeClaim();
    expect(isNodeClaim(claim)).toBe(true);
    const id = claimedNodeId(claim);
    expect(id).toMatch(/^peer-k[0-9a-f]{32}$/);
    expect(isClaimedNodeId(id)).toBe(true);
    expect(claimProvesNodeId(claim, id)).toBe(true);
    const other = mintNodeClaim();
    expect(other).not.toBe(claim);
    expect(claimProvesNodeId(other, id)).toBe(false);
    // One digit changed.
    const flipped = `${claim.slice(0, 63)}${claim[63] === '0' ? '1' : '0'}`;
    expect(claimProvesNodeId(flipped, id)).toBe(false);
  });

  it('the id is not the claim nor a prefix of it: seeing the id tells nothing of the claim', () => {
    const claim = mintNodeClaim();
    const id = claimedNodeId(claim);
    expect(claim).not.toContain(id.slice('peer-k'.length, 'peer-k'.length + 8));
  });

  it('unclaimed ids (the older peer-<16 hex>, names an application chose) are proven by no claim', () => {
    const claim = mintNodeClaim();
    for (const id of ['peer-0123456789abcdef', 'alice', 'peer-K0123456789abcdef0123456789abcdef', `peer-k${'0'.repeat(31)}`, `peer-k${'0'.repeat(33)}`]) {
      expect(isClaimedNodeId(id)).toBe(false);
      expect(claimProvesNodeId(claim, id)).toBe(false);
    }
  });

  it('malformed claims prove nothing and are refused where an id is asked of them', () => {
    const id = claimedNodeId(mintNodeClaim());
    for (const claim of ['', 'x'.repeat(64), 'A'.repeat(64), '0'.repeat(63), '0'.repeat(65)]) {
      expect(isNodeClaim(claim)).toBe(false);
      expect(claimProvesNodeId(claim, id)).toBe(false);
      expect(() => claimedNodeId(claim)).toThrow(RangeError);
    }
  });

  it('a seeded random source mints the same claim again (reproducible simulations), the default never', () => {
    expect(mintNodeClaim(seededRandom(7))).toBe(mintNodeClaim(seededRandom(7)));
    expect(mintNodeClaim(seededRandom(7))).not.toBe(mintNodeClaim(seededRandom(8)));
    const minted = new Set(Array.from({ length: 50 }, () => mintNodeClaim()));
    expect(minted.size).toBe(50);
  });
});
