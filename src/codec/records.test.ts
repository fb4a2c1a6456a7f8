// Stored and transmitted configurations obey validateClusterConfig's rules, or are refused.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from './message-codec.ts';
import { decodeConfigPayload, encodeConfigPayload } from './records.ts';
import { maxConfigMembers, nodeId, validateClusterConfig, type ClusterConfig, type ConfigPayload } from '../core/types.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name));

function configEntryFrame(config: ConfigPayload): Uint8Array {
  return encodeMessage({ type: 'appendEntries', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [{ index: 1, term: 2, command: new Uint8Array(0), isNoOp: false, config }], leaderCommit: 0, readRound: 0 });
}

describe('cluster configuration records', () => {
  it('round-trip a valid configuration, joint or not, with or without learners', () => {
    const payloads: ConfigPayload[] = [
      { old: null, new: { voters: [a!] } },
      { old: { voters: [a!, b!] }, new: { voters: [b!, c!], learners: [a!] } },
      { old: null, new: { voters: [a!], learners: [] } },
    ];
    for (const payload of payloads) expect(decodeConfigPayload(encodeConfigPayload(payload))).toEqual({ ok: true, value: payload });
  });

  it('refuses a configuration with no voter or with an id named twice (a doubled voter would count twice)', () => {
    const invalid: ClusterConfig[] = [{ voters: [] }, { voters: [a!, b!, b!] }, { voters: [a!], learners: [a!] }, { voters: [a!], learners: [c!, c!] }];
    for (const config of invalid) {
      expect(decodeConfigPayload(encodeConfigPayload({ old: null, new: config }))).toMatchObject({ ok: false, reason: 'invalidField' });
      expect(decodeConfigPayload(encodeConfigPayload({ old: config, new: { voters: [a!] } }))).toMatchObject({ ok: false, reason: 'invalidField' });
      // In a frame too: a follower never adopts it (it would have elected itself alone).
      expect(decodeMessage(configEntryFrame({ old: null, new: config }))).toMatchObject({ ok: false, reason: 'invalidField' });
    }
  });

  it('are bounded as validateClusterConfig bounds them: the largest configuration it accepts travels, one id more it refuses', () => {
    // A configuration the API accepted but the codec refused was appended by a leader and then
    // dropped as undecodable by every follower: replication stopped at its entry.
    const named = (prefix: string, count: number) => Array.from({ length: count }, (_, position) => nodeId(`${prefix}-${position}`));
    const largest = validateClusterConfig({ voters: named('voter', maxConfigMembers), learners: named('learner', maxConfigMembers) });
    const payload: ConfigPayload = { old: largest, new: largest };
    expect(decodeConfigPayload(encodeConfigPayload(payload))).toEqual({ ok: true, value: payload });
    expect(decodeMessage(configEntryFrame(payload))).toMatchObject({ ok: true });
    expect(() => validateClusterConfig({ voters: named('voter', maxConfigMembers + 1) })).toThrow(RangeError);
    expect(() => validateClusterConfig({ voters: [a!], learners: named('learner', maxConfigMembers + 1) })).toThrow(/ClusterConfig\.learners lists 1001 node ids/);
  });

  it('allows an id in both halves of a joint configuration (a voter moving to learner)', () => {
    const payload: ConfigPayload = { old: { voters: [a!, b!] }, new: { voters: [b!], learners: [a!] } };
    expect(decodeMessage(configEntryFrame(payload)).ok).toBe(true);
  });
});
