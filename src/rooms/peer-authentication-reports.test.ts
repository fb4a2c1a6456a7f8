// The bound on peerAuthenticationFailed events: a peer that fails the secret check on every
// connection attempt (or a forger offering under its id as fast as signaling lets it) is reported
// once per interval, with the count of failures since; and only so many peers at a time.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { createPeerAuthenticationReports, maxReportedPeers, peerAuthenticationReportIntervalMs } from './peer-authentication-reports.ts';

describe('peer authentication reports', () => {
  it('one per peer per interval, then the failures since the last one', async () => {
    const clock = new VirtualClock(0);
    const reports = createPeerAuthenticationReports(clock);
    const c = nodeId('c');
    expect(reports.failed(c)).toBe(1);
    for (let failure = 0; failure < 100; failure++) expect(reports.failed(c)).toBeNull();
    expect(reports.failed(nodeId('d'))).toBe(1); // another peer is counted apart
    await clock.advance(peerAuthenticationReportIntervalMs);
    expect(reports.failed(c)).toBe(101);
    expect(reports.failed(c)).toBeNull();
  });

  it(`remembers at most ${maxReportedPeers} peers: beyond them, while all were reported within the interval, a new one is not reported`, async () => {
    const clock = new VirtualClock(0);
    const reports = createPeerAuthenticationReports(clock);
    const reported = Array.from({ length: 200 }, (_, index) => reports.failed(nodeId(`peer-${index}`))).filter((failures) => failures !== null);
    expect(reported).toHaveLength(maxReportedPeers);
    await clock.advance(peerAuthenticationReportIntervalMs);
    expect(reports.failed(nodeId('peer-199'))).toBe(1);
  });
});
