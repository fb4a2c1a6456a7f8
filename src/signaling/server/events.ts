// What the server reports (one event per join, leave and refusal); the CLI prints one line each.
import type { SignalingErrorCode } from '../messages.ts';

export type SignalingServerEvent =
  | { readonly type: 'joined'; readonly roomId: string; readonly nodeId: string; readonly peers: number; readonly remoteAddress: string | null }
  | { readonly type: 'left'; readonly roomId: string; readonly nodeId: string; readonly reason: string; readonly peers: number }
  | {
      readonly type: 'refused';
      readonly code: SignalingErrorCode;
      readonly message: string;
      readonly roomId: string | null;
      readonly nodeId: string | null;
      readonly remoteAddress: string | null;
    };

export function describeServerEvent(event: SignalingServerEvent): string {
  switch (event.type) {
    case 'joined':
      return `join  room=${JSON.stringify(event.roomId)} node=${JSON.stringify(event.nodeId)} peers=${event.peers} from=${event.remoteAddress ?? '?'}`;
    case 'left':
      return `leave room=${JSON.stringify(event.roomId)} node=${JSON.stringify(event.nodeId)} peers=${event.peers} reason=${event.reason}`;
    case 'refused':
      return `refuse code=${event.code} room=${JSON.stringify(event.roomId)} node=${JSON.stringify(event.nodeId)} from=${event.remoteAddress ?? '?'}: ${event.message}`;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
