// Command-line and environment configuration of `raftmesh-signal`, parsed without side effects.
//
//   raftmesh-signal [--port 8787] [--host 127.0.0.1] [--room name[=secret]]... [--room-key name=key]...
//                   [--allow-any-room]
//
// Rooms may instead (or also) come from RAFTMESH_SIGNAL_ROOMS, a JSON object mapping room names
// to a secret, to { "admissionKey": "<64 hex>" }, or to null for an open room. The environment is
// the better place for secrets: command lines are visible to every user in `ps`. An admission
// key (`deriveAdmissionKey(secret, room)`) is better still: the server can then admit peers but
// never impersonate one (`echo "$SECRET" | raftmesh-signal derive-key <room>` prints it).
// With no rooms configured every room is open; with some, only those
// are served unless --allow-any-room.
import type { RoomPolicy } from './room-policy.ts';

export interface CliConfig {
  readonly port: number;
  readonly host: string;
  readonly rooms: Readonly<Record<string, RoomPolicy>> | undefined;
  readonly allowUnlistedRooms: boolean;
  readonly help: boolean;
}

export const roomsEnvironmentVariable = 'RAFTMESH_SIGNAL_ROOMS';

export const usage = `usage: raftmesh-signal derive-key <room>   (reads the secret from stdin, prints the admission key)
       raftmesh-signal [--port 8787] [--host 127.0.0.1] [--room name[=secret]]... [--room-key name=admissionKey]... [--allow-any-room]
  env ${roomsEnvironmentVariable}='{"room": "secret", "other": {"admissionKey": "<64 hex>"}, "open": null}'`;

/**
 * A table without a prototype: on a plain object, a room named `__proto__` set the object's
 * prototype instead of adding a room, so it was lost, and alone it left no room configured at all
 * (every room open).
 */
function emptyRoomTable(): Record<string, RoomPolicy> {
  return Object.create(null) as Record<string, RoomPolicy>;
}

function roomsFromEnvironment(text: string | undefined): Record<string, RoomPolicy> {
  const rooms = emptyRoomTable();
  if (text === undefined || text.trim() === '') return rooms;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (_error) {
    throw new Error(`${roomsEnvironmentVariable} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${roomsEnvironmentVariable} must be a JSON object`);
  for (const [room, entry] of Object.entries(value)) {
    if (entry === null) rooms[room] = {};
    else if (typeof entry === 'string') rooms[room] = { secret: entry };
    else if (typeof entry === 'object' && typeof (entry as { admissionKey?: unknown }).admissionKey === 'string') {
      rooms[room] = { admissionKey: (entry as { admissionKey: string }).admissionKey };
    } else throw new Error(`${roomsEnvironmentVariable}: room ${JSON.stringify(room)} must map to a secret, {"admissionKey": ...} or null`);
  }
  return rooms;
}

function splitPair(flag: string, text: string, valueRequired: boolean): [string, string | undefined] {
  const at = text.indexOf('=');
  if (at === 0 || (valueRequired && at < 0)) throw new Error(`${flag} expects name${valueRequired ? '=' : '[=]'}value, got ${JSON.stringify(text)}`);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** Decimal digits only: `Number` would read "" and " " as 0 (a random port) and "0x50" as 80. */
function parsePort(text: string | undefined): number {
  const port = text !== undefined && /^[0-9]{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) throw new Error(`--port expects 0 .. 65535, got ${JSON.stringify(text)}`);
  return port;
}

/** An empty host is no default: listen() binds every interface for it, not loopback. */
function parseHost(text: string): string {
  if (text.trim() === '') throw new Error(`--host expects a host name or address (127.0.0.1 by default; 0.0.0.0 for every interface), got ${JSON.stringify(text)}`);
  return text;
}

export function parseCliArguments(argv: readonly string[], environment: Readonly<Record<string, string | undefined>>): CliConfig {
  let port = 8787;
  let host = '127.0.0.1';
  let allowUnlistedRooms = false;
  let help = false;
  const rooms = roomsFromEnvironment(environment[roomsEnvironmentVariable]);
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index] ?? '';
    // `--port 8787` and `--port=8787` alike (`--room=a=b` splits at the first `=` only).
    const equals = flag.startsWith('--') ? flag.indexOf('=') : -1;
    const [name, inline] = equals < 0 ? [flag, undefined] : [flag.slice(0, equals), flag.slice(equals + 1)];
    const value = (): string => {
      const next = inline ?? argv[++index];
      if (next === undefined) throw new Error(`${name} needs a value`);
      return next;
    };
    // `--allow-any-room=false` read as the flag alone turned it on: the opposite of what it says.
    const noValue = (): true => {
      if (inline !== undefined) throw new Error(`${name} takes no value, got ${JSON.stringify(flag)}`);
      return true;
    };
    if (name === '--port') port = parsePort(value());
    else if (name === '--host') host = parseHost(value());
    else if (name === '--room') {
      const [room, secret] = splitPair('--room', value(), false);
      rooms[room] = secret === undefined ? {} : { secret };
    } else if (name === '--room-key') {
      const [room, admissionKey] = splitPair('--room-key', value(), true);
      rooms[room] = { admissionKey: admissionKey ?? '' };
    } else if (name === '--allow-any-room') allowUnlistedRooms = noValue();
    else if (name === '--help' || name === '-h') help = noValue();
    else throw new Error(`unknown argument ${JSON.stringify(flag)}\n${usage}`);
  }
  return { port, host, rooms: Object.keys(rooms).length === 0 ? undefined : rooms, allowUnlistedRooms, help };
}

/** `raftmesh-signal derive-key <room>`: the admission key for --room-key, from a secret on stdin. */
export function deriveKeyRoom(argv: readonly string[]): string | null {
  if (argv[0] !== 'derive-key') return null;
  const room = argv[1];
  if (room === undefined || argv.length > 2) throw new Error('usage: echo "$SECRET" | raftmesh-signal derive-key <room>');
  return room;
}
