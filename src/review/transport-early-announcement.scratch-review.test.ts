// Review: an `engine-channels` announcement taken before the handshake (session.ts takes
// announcements "at any time") makes the link's renew() run inside becomeReady(), between
// `state = 'ready'` and engineChannels.becomeReady(): engineChannels.renew() then says false
// (not ready), which peer-link.ts reads as "no generation left" and closes the session it has
// just established.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { engineChannelsAnnouncement } from '../transport/webrtc/data-channel-hand-off.ts';
import { cleanUp, meshed, pair, recordingHost, sleep, wait } from '../transport/webrtc/data-channel-hand-off.test-support.ts';

afterEach(cleanUp);

describe('review: engine-channel announcement before authentication', () => {
  it('a peer whose announcement arrives before this side is ready does not get the fresh connection closed when a host attached meanwhile', async () => {
    const { network, a, b } = pair();
    const hostB = recordingHost();
    network.onLinked = (answerer) => {
      network.onLinked = null;
      // b's session exists now (it is applying the offer); its host attaches while it connects.
      hostB.serve(b);
      // The initiator's page says it listens before the handshake (early, or a hostile peer).
      answerer.peer?.control.send(engineChannelsAnnouncement);
    };
    await meshed(a, b);
    await sleep(200);
    await vi.waitFor(() => expect(b.peers.value.size).toBe(1), wait);
    // One connection, kept; the host gets a pair on it.
    expect({ attempts: b.counters.connectionAttempts, lost: b.counters.connectionsLost }).toEqual({ attempts: 1, lost: 0 });
  });
});
