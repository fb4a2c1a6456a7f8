// The demo page: joins the room named in the URL and renders the board and the cluster panel.
import { LeadershipTransferError, nodeId } from 'raftmesh';
import type { WebRtcTransport } from 'raftmesh/webrtc';
import { bannerNotes, bannerOf, type UnreachableReport } from './app/connection-banner.ts';
import { signalingDownText } from './app/connection-text.ts';
import { joinHintOf } from './app/join-hint.ts';
import { createDemoModel, type DispatchOutcome } from './app/demo-model.ts';
import { createLeaderNotes } from './app/leader-notes.ts';
import { releaseOf, type PeerRelease } from './app/peer-release.ts';
import { createRememberedNames } from './app/remembered-names.ts';
import { readSettings } from './app/settings.ts';
import { leaderBecomes } from './app/transfer-outcome.ts';
import { startPeer, type DemoPeer, type PeerHooks } from './app/start-peer.ts';
import { describeMembership } from './app/timeline-text.ts';
import { outdatedBannerText } from './app/version-notes.ts';
import { storeOptions } from './board/store-options.ts';
import type { BoardCommand } from './board/board-state.ts';
import './test-api.ts';
import { boardView } from './ui/board-view.ts';
import { clusterPanel } from './ui/cluster-panel.ts';
import { h, replaceContent } from './ui/dom.ts';
import { guardPresses } from './ui/press-guard.ts';
import { unreachableNotice } from './ui/unreachable-notice.ts';

const settings = readSettings(window.location);
/** The version of the board this page's store runs: ?version=, else the board's own (start-peer.ts passes the same). */
const boardVersion = settings.boardVersion ?? storeOptions.version;
/** This page's release now, for its own row and its status gossip: the store's version and where it stopped, if it did. */
const ownRelease = (): PeerRelease => releaseOf(boardVersion, peer?.room.store.outdated.value ?? null);
const root = document.getElementById('app') ?? document.body;
const header = h('header', {}, h('h1', {}, 'raftmesh board'), h('p', { class: 'status', 'data-testid': 'status', role: 'status', 'aria-live': 'polite' }, `joining room "${settings.room}"…`));
let unreachable: UnreachableReport = { count: 0, peers: [], waiting: true };
/**
 * Set by the banner's "Start anyway": discovery stops waiting for peers it cannot reach. Forgotten
 * when the page rejoins under a fresh id (after a wedge): that choice was about the room as it was
 * then, and a new one is the user's to make.
 */
let startAnyway = false;
const chooseStartAnyway = (): void => {
  startAnyway = true;
  showBanner();
};
const forgetStartAnyway = (): void => {
  startAnyway = false;
};
const noteBanner = bannerNotes((wording) => model?.note('connection', wording));
/**
 * The banner's slot: the banner is rebuilt when its text changes (a peer's name arrives by gossip,
 * the list of unreachable peers changes) and replaceContent keeps keyboard focus on its "Start
 * anyway" button across that, as it does for the board's controls.
 */
const noticeSlot = h('div', {}, unreachableNotice({ type: 'none' }, (id) => id, chooseStartAnyway));
/** What the banner shows now (its text and whether it offers "Start anyway"): redrawn only when that changes. */
let shownBanner = '';
const main = h('main', {});
/**
 * Shown while the board's store is outdated (version-notes.ts): a newer release of the board runs
 * in the room, and this page's store stopped folding rather than show a board of its own.
 */
const outdatedNotice = h('p', { class: 'unreachable-notice outdated', 'data-testid': 'outdated', role: 'alert', hidden: true }, outdatedBannerText);
root.replaceChildren(header, outdatedNotice, noticeSlot, main);

/**
 * Shown from the start: a page that cannot reach the peers signaling lists waits for them, and says
 * so; once joined, also that the user cut it off. Called on every report, on the switch and the
 * reachable peers (so the timeline notes changes while the tab is hidden and draws nothing), and
 * on every draw (names arrive by gossip).
 */
const showBanner = (): void => {
  const partition = peer?.partition;
  const banner = bannerOf({ report: unreachable, startingAnyway: startAnyway, connected: partition?.connected.value ?? true, reachable: partition?.peers.value ?? new Set(), secretCheckFailures: webrtc?.counters.authenticationFailures ?? 0 });
  noteBanner(banner);
  const nameOf = model?.nameOf ?? ((id: string) => id.slice(0, 10));
  const next = unreachableNotice(banner, nameOf, startAnyway ? null : chooseStartAnyway);
  const shown = `${next.textContent ?? ''}|${next.hidden}`;
  if (shown === shownBanner) return;
  shownBanner = shown;
  replaceContent(noticeSlot, next);
};
const showUnreachable = (report: UnreachableReport): void => {
  unreachable = report;
  showBanner();
};

const setStatus = (text: string): void => {
  const status = header.querySelector('.status');
  // Only on a change: the status is a live region, and a rewrite of the same words is announced again.
  if (status && status.textContent !== text) status.textContent = text;
};
/** How long an error stays in the panel's alert box; the timeline keeps it. */
const errorShownMs = 15_000;

// Changes this page made that the cluster has not confirmed yet would be lost with the page: the
// browser asks before it goes (they are shown applied, and a reload would take them back).
window.addEventListener('beforeunload', (event) => {
  if ((peer?.room.store.pendingCount ?? 0) === 0) return;
  event.preventDefault();
  event.returnValue = '';
});

/** The room's latest WebRTC transport (from before the join: a page kept out by a wrong secret never joins). */
let webrtc: WebRtcTransport | null = null;

// A page that goes away closes its connections itself (joinRoom does it on pagehide: the browser
// may tear them down without a word, and the other pages then showed it as "silent … though its
// connection is open" until their links timed out, an outside audit of 2026-12-04).
// The banner also follows the transport's counters, which no event announces: looked at each second.
setInterval(() => showBanner(), 1_000);

const presses = guardPresses({ target: window });
let peer: DemoPeer | null = null;
const peerOrThrow = (): DemoPeer => peer ?? (() => { throw new Error('the peer has not joined yet'); })();

/**
 * Notes the room made before the timeline existed (the join reports a lost storage and the fresh
 * id it took while it runs), shown once it does; bounded, the oldest dropped first.
 */
const notesBeforeJoining: Array<Parameters<PeerHooks['onEvent']>> = [];
const maxNotesBeforeJoining = 32;

async function start(): Promise<void> {
  const joined = await startPeer(settings, {
    onEvent: (kind, text) => {
      if (model !== null) model.note(kind, text);
      else if (notesBeforeJoining.push([kind, text]) > maxNotesBeforeJoining) notesBeforeJoining.shift();
    },
    onUnreachable: showUnreachable,
    startAnyway: { chosen: () => startAnyway, forget: forgetStartAnyway },
    onTransport: (transport) => {
      webrtc = transport;
    },
  });
  peer = joined;
  model = createDemoModel({ node: () => joined.room.node, store: () => joined.room.store, partition: joined.partition, selfName: settings.name, release: ownRelease, rememberedNames: createRememberedNames(localStorage, settings.room) });
  for (const [kind, text] of notesBeforeJoining.splice(0)) model.note(kind, text);
  wire(joined, model);
}

let model: ReturnType<typeof createDemoModel> | null = null;

function wire(joined: DemoPeer, demo: ReturnType<typeof createDemoModel>): void {
  drawnMarkup = null;
  let scheduled = false;
  const render = (): void => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      // Not under a press: the pressed button would be replaced, and its click lost.
      if (presses.pressed()) presses.afterRelease(render);
      else draw(joined, demo);
    });
  };
  // On the room's current node and store: moved to the new ones when the page rejoins under a fresh id.
  joined.room.follow(({ node, store }) => {
    const leaderNotes = createLeaderNotes({ selfId: node.id, note: (wording) => demo.note('election', wording), setTimer: (run, ms) => setTimeout(run, ms), clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>) });
    // The same configuration can be published again (a new object after a worker update): note changes only.
    let lastMembership = '';
    // Per store: a rejoin's new store starts folding again, and says anew if it stops.
    const showOutdated = (outdated: unknown): void => {
      outdatedNotice.hidden = outdated === null;
    };
    showOutdated(store.outdated.value);
    return [
      node.leader.subscribe((leader) => leaderNotes.leaderChanged(leader, node.term.value)),
      leaderNotes.close,
      node.membership.subscribe((config) => {
        const key = JSON.stringify([config.voters, config.learners ?? []]);
        if (key !== lastMembership) demo.note('membership', describeMembership(config));
        lastMembership = key;
      }),
      node.stopped.subscribe((error) => error && demo.note('error', `this peer stopped: ${error.message}`)),
      store.subscribe(render),
      store.outdated.subscribe(showOutdated),
      ...[node.role, node.term, node.commitIndex, node.leader].map((watchable) => watchable.subscribe(render)),
    ];
  });
  joined.partition.connected.subscribe((connected) => {
    demo.note('connection', connected ? 'reconnected this peer' : 'disconnected this peer (partition)');
    showBanner();
  });
  joined.partition.peers.subscribe(() => {
    showBanner();
    render();
  });
  demo.onChange(render);
  // Status gossip for the other pages' cluster panels, and a redraw at the same pace.
  const gossip = (): void => {
    const { node, store } = joined.room;
    joined.partition.broadcastStatus({
      role: node.stopped.value === null ? node.role.value : 'stopped',
      term: node.term.value,
      commitIndex: node.commitIndex.value,
      appliedIndex: store.appliedIndex.value,
      leader: node.leader.value,
      visible: document.visibilityState === 'visible',
      name: settings.name,
      release: ownRelease(),
    });
  };
  setInterval(gossip, 500);
  setInterval(render, 1_000);
  draw(joined, demo);
}

/** The errors of the last errorShownMs, for the panel's alert box (an old one no longer points at anything on screen). */
function recentErrors(timeline: ReturnType<ReturnType<typeof createDemoModel>['timeline']>): string[] {
  const since = Date.now() - errorShownMs;
  return timeline.filter((entry) => entry.kind === 'error' && entry.at >= since).map((entry) => entry.text);
}

/**
 * The markup on screen, so that a redraw that would put back the same elements is skipped. The
 * panel is redrawn on every status gossip (four times a second from two peers) and every second,
 * and replacing the board with an identical one still costs style, layout and paint: an idle
 * room of three pages kept about 58 % of a core busy here, most of it these redraws. Equal markup
 * means equal handlers too: each handler acts on values its button shows (a task id in its focus
 * key, a fencing token in its label, a peer id in its focus key).
 */
let drawnMarkup: string | null = null;

function draw(joined: DemoPeer, demo: ReturnType<typeof createDemoModel>): void {
  const { node, store } = joined.room;
  const connected = joined.partition.connected.value;
  const leader = node.leader.value;
  // The server down: peers already connected go on; without any, this page meets only this
  // browser's tabs (the demo may start a room without it, offlineBootstrapAfterMs), and a user
  // elsewhere in the "same" room would not see its changes.
  const signalingDown = joined.room.signaling.ready?.value === false;
  setStatus(`room "${settings.room}" · you are ${settings.name} (${node.id.slice(0, 10)}) · ${node.role.value}${leader === null ? ' · no leader yet' : ''}${connected ? '' : ' · DISCONNECTED'}${signalingDown ? ` · ${signalingDownText(settings.signalingUrl, joined.partition.peers.value.size)}` : ''}`);
  const content = h(
    'div',
    { class: 'layout' },
    boardView(store.optimisticState.value, store.pendingCount, node.commitIndex.value === 0 && leader === null, { me: settings.name, dispatch: (command) => void demo.dispatch(command) }),
    clusterPanel(demo.cluster(), demo.timeline(), recentErrors(demo.timeline()), {
      connected,
      onlyVoter: node.membership.value.voters.length === 1 && node.membership.value.voters[0] === node.id,
      canTransfer: node.role.value === 'leader',
      join: joinHintOf({ membership: node.membership.value, self: node.id, connectedPeers: joined.partition.peers.value.size, unreachablePeers: unreachable.count, connected, signalingDown, href: location.href }),
      transferTo: (id) => void transfer(id),
      setConnected: (value) => joined.partition.setConnected(value),
    }),
  );
  const markup = content.outerHTML;
  if (markup !== drawnMarkup) {
    drawnMarkup = markup;
    replaceContent(main, content);
  }
  showBanner();
}

/** How long an abandoned transfer waits to hear the target lead: about an election timeout. */
const transferSettleMs = 1_000;

async function transfer(to: string): Promise<DispatchOutcome> {
  const joined = peerOrThrow();
  try {
    await joined.room.node.transferLeadership(nodeId(to));
    return { ok: true, index: joined.room.node.commitIndex.value };
  } catch (error) {
    // Abandoned is not failed: the target may have won while this node stepped down unaware.
    if (error instanceof LeadershipTransferError && (await leaderBecomes(joined.room.node.leader, nodeId(to), transferSettleMs))) {
      return { ok: true, index: joined.room.node.commitIndex.value };
    }
    const message = error instanceof Error ? error.message : String(error);
    model?.note('error', `transferring leadership failed: ${message}`);
    return { ok: false, error: message };
  }
}

const ready = start().then(
  () => undefined,
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    setStatus(`could not join room "${settings.room}": ${message}`);
    header.classList.add('failed');
    throw error;
  },
);
ready.catch(() => undefined);

window.raftmeshDemo = {
  ready,
  name: settings.name,
  nodeId: () => peer?.room.node.id ?? null,
  board: () => peerOrThrow().room.store.state.value,
  readBoard: () => peerOrThrow().room.store.read(),
  dispatch: (command: BoardCommand) => (model === null ? Promise.resolve({ ok: false, error: 'not joined yet' }) : model.dispatch(command)),
  cluster: () => model?.cluster() ?? [],
  unreachable: () => ({ ...unreachable, peers: [...unreachable.peers] }),
  leader: () => peer?.room.node.leader.value ?? null,
  role: () => peer?.room.node.role.value ?? 'joining',
  commitIndex: () => peer?.room.node.commitIndex.value ?? 0,
  timeline: () => model?.timeline() ?? [],
  errors: () => [...(model?.errors ?? [])],
  setConnected: (connected) => peerOrThrow().partition.setConnected(connected),
  transferLeadership: transfer,
  leave: async () => {
    await peer?.room.leave();
  },
};
