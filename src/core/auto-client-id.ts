// Auto client ids (SPEC.md "Exactly-once"): a node with `identity: { type: 'auto' }` stamps its
// proposals with `<nodeId>-<16 lowercase hex digits>`, minted fresh at every start. The shape
// is what lets the ClientSessionTable recognise an auto id and retire the older ids of the
// same node when a new incarnation appears, so the table bounds itself without a clock.
//
// Consequence for applications: a durable client id must NOT end in "-" followed by exactly
// 16 lowercase hex digits, or the table would treat it as an auto id (and drop it once another
// id with the same prefix appears); createRaftNode refuses such an id.

import { saltWord } from './incarnation-salt.ts';
import { clientId, maxIdLength } from './types.ts';
import type { ClientId, NodeId } from './types.ts';

export const autoSuffixLength = 16;

const autoSuffixPattern = /^[0-9a-f]{16}$/;

/**
 * 16 hex digits: 64 random bits make a collision between incarnations vanishingly unlikely.
 * `salt` describes the incarnation (when it started, what its storage held) and is mixed into
 * the drawn bits: a seeded random source given the same seed at every restart, as deterministic
 * tests do, then still mints a different id whenever the clock or the storage moved on.
 */
export function mintAutoClientId(nodeId: NodeId, random: () => number, salt = ''): ClientId {
  const longestNodeId = maxIdLength - autoSuffixLength - 1;
  if (nodeId.length === 0 || nodeId.length > longestNodeId) {
    throw new RangeError(
      `cannot mint an auto client id for node id of length ${nodeId.length}: it must be 1..${longestNodeId} characters so the id fits in ${maxIdLength}. Use a shorter node id, or give the node identity { type: 'durable', clientId } or { type: 'none' }`,
    );
  }
  let suffix = '';
  // Four hex digits per draw keep us well inside the 52-bit precision of Math.random-like sources.
  for (let draw = 0; draw < autoSuffixLength / 4; draw += 1) {
    const sample = random();
    if (!(sample >= 0 && sample < 1)) {
      throw new RangeError(`random() must return a number in [0, 1), got ${sample}`);
    }
    // XOR with a fixed word keeps the drawn bits uniform; the word changes with the salt.
    const word = (Math.floor(sample * 0x10000) ^ saltWord(salt, draw)) & 0xffff;
    suffix += word.toString(16).padStart(4, '0');
  }
  return clientId(`${nodeId}-${suffix}`);
}

export interface AutoClientIdParts {
  readonly nodeId: string;
  readonly suffix: string;
}

/** Null for a durable id; the split is at the last '-', so node ids may themselves contain '-'. */
export function parseAutoClientId(id: string): AutoClientIdParts | null {
  const separator = id.lastIndexOf('-');
  if (separator <= 0) return null;
  const suffix = id.slice(separator + 1);
  if (!autoSuffixPattern.test(suffix)) return null;
  return { nodeId: id.slice(0, separator), suffix };
}
