// The typed test API on `window` (as tldraw does): end-to-end tests drive the app the way its
// own code does — dispatch commands, read the board and the cluster view, cut this peer off —
// instead of scraping pixels. Buttons call the same functions.
import type { BoardCommand, BoardState } from './board/board-state.ts';
import type { ClusterRow, DispatchOutcome, TimelineEntry } from './app/demo-model.ts';

export interface DemoTestApi {
  /** Resolves once this page's peer joined its room (rejects with the reason it could not). */
  readonly ready: Promise<void>;
  readonly nodeId: () => string | null;
  readonly name: string;
  /** The confirmed board (committed and applied on this page). */
  board(): BoardState;
  /** A linearizable read of the board. */
  readBoard(): Promise<BoardState>;
  dispatch(command: BoardCommand): Promise<DispatchOutcome>;
  cluster(): ClusterRow[];
  /** Peers signaling lists that this page cannot connect to (the room's latest `peersUnreachable` event). */
  unreachable(): { count: number; peers: string[]; waiting: boolean };
  leader(): string | null;
  role(): string;
  commitIndex(): number;
  timeline(): TimelineEntry[];
  errors(): string[];
  setConnected(connected: boolean): void;
  transferLeadership(to: string): Promise<DispatchOutcome>;
  /** Leaves the room cleanly (closes node, storage, connections). */
  leave(): Promise<void>;
}

declare global {
  interface Window {
    raftmeshDemo: DemoTestApi;
  }
}
