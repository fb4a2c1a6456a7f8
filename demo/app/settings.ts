// What a page joins, from its URL: ?room=board&secret=...&signal=ws://127.0.0.1:8787&name=Ana
// (&witness=<node id> names an always-on witness peer, see raftmesh-peer --witness).
// The name (shown on claims, chat and the lock) is remembered per browser profile.
// &unreachableAfterMs=<ms> shortens the room policy's wait before it replaces or removes a member
// it cannot reach (joinRoom's `policy.unreachableAfterMs`, default 10 s): the end-to-end tests
// whose subject is a removal or a replacement, not its timing, pass it so they do not wait out the
// default (e2e/demo.spec.ts).
// &version=<n> runs the board's store as release n of the board (ReplicatedStoreOptions.version;
// the reducer is the same): opened beside pages without it, it shows what a tab left open on an
// older release does when a newer one writes (it stops and asks for a reload, see
// app/version-notes.ts); the end-to-end test of that uses it too.
export interface DemoSettings {
  readonly room: string;
  readonly secret: string | undefined;
  readonly signalingUrl: string;
  readonly name: string;
  /** An always-on witness peer's node id (?witness=...), preferred as a voter by the room policy. */
  readonly witness: string | undefined;
  /** ?unreachableAfterMs=...: the room policy's setting of that name; undefined keeps joinRoom's default. */
  readonly unreachableAfterMs: number | undefined;
  /** ?version=...: the board store's version, above the board's own (storeOptions.version); undefined keeps it. */
  readonly boardVersion: number | undefined;
}

/** A whole number from 1 to 2^31-1 (the store's range), else undefined: a bad value keeps the board's own version. */
export function readBoardVersion(query: URLSearchParams): number | undefined {
  const text = query.get('version');
  if (text === null || !/^[0-9]{1,10}$/.test(text)) return undefined;
  const version = Number(text);
  return version >= 1 && version <= 2 ** 31 - 1 ? version : undefined;
}

/** A whole number of milliseconds from 1 ms to a day (the policy's own range), else undefined: a bad value keeps the default rather than failing the join. */
export function readUnreachableAfterMs(query: URLSearchParams): number | undefined {
  const text = query.get('unreachableAfterMs');
  if (text === null || !/^[0-9]{1,8}$/.test(text)) return undefined;
  const milliseconds = Number(text);
  return milliseconds >= 1 && milliseconds <= 86_400_000 ? milliseconds : undefined;
}

const nameKey = 'raftmesh-demo:name';

function defaultName(): string {
  const animals = ['Otter', 'Heron', 'Lynx', 'Marten', 'Ibex', 'Puffin', 'Gecko', 'Wren'];
  return `${animals[Math.floor(Math.random() * animals.length)]} ${Math.floor(Math.random() * 90 + 10)}`;
}

export function readSettings(location: Location): DemoSettings {
  const query = new URLSearchParams(location.search);
  // Not shortened: two long names that shared their first characters met in one room. A name the
  // signaling server cannot carry is refused when the page joins, with the reason in the header.
  const room = query.get('room') || 'board';
  const secret = query.get('secret') ?? undefined;
  const signalingUrl = query.get('signal') ?? `ws://${location.hostname || '127.0.0.1'}:8787`;
  // A blank name is no name: `&name=` used to be saved, and every claim, lock and message of
  // that browser was refused from then on ("a name must not be empty").
  const name = (query.get('name')?.trim() || localStorage.getItem(nameKey)?.trim() || defaultName()).slice(0, 64);
  localStorage.setItem(nameKey, name);
  const witness = query.get('witness') ?? undefined;
  return { room, secret: secret === null || secret === '' ? undefined : secret, signalingUrl, name, witness: witness === '' ? undefined : witness, unreachableAfterMs: readUnreachableAfterMs(query), boardVersion: readBoardVersion(query) };
}

