// `npm run chaos -- [--seed S] [--seconds N] [--nodes 3]`: a campaign's options, validated.

export interface ChaosOptions {
  readonly seed: number;
  readonly seconds: number;
  readonly nodes: number;
  readonly compactEvery: number;
  /** `--lose-database-on-kill`: the first browser killed finds its database deleted (CampaignOptions.loseDatabaseOnKill). */
  readonly loseDatabaseOnKill: boolean;
}

const bounds = { seconds: [5, 3_600], nodes: [3, 5] } as const;

export const chaosUsage = 'usage: npm run chaos -- [--seed S] [--seconds N (5..3600, default 120)] [--nodes 3|4|5] [--compact-every N (0: never; default 500)] [--lose-database-on-kill]';
const names = ['seed', 'seconds', 'nodes', 'compact-every'];
const flags = ['lose-database-on-kill'];

/** Every argument is `--name value` or `--name=value` of a known name: a typo used to run the defaults. */
function checkNames(argv: readonly string[]): void {
  for (let position = 0; position < argv.length; position += 1) {
    const argument = argv[position] ?? '';
    if (flags.includes(argument.slice(2)) && argument.startsWith('--')) continue;
    const name = /^--([a-z-]+)(=|$)/.exec(argument);
    if (name === null || !names.includes(name[1] ?? '')) throw new RangeError(`unknown argument ${JSON.stringify(argument)}`);
    if (name[2] === '') position += 1; // its value follows
  }
}

export function parseOptions(argv: readonly string[]): ChaosOptions {
  checkNames(argv);
  const value = (name: string): string | undefined => {
    const position = argv.indexOf(`--${name}`);
    const inline = argv.find((argument) => argument.startsWith(`--${name}=`));
    return inline !== undefined ? inline.slice(name.length + 3) : position >= 0 ? argv[position + 1] : undefined;
  };
  const integer = (name: string, fallback: number, low: number, high: number): number => {
    const text = value(name);
    if (text === undefined) return fallback;
    const parsed = Number(text);
    if (!Number.isSafeInteger(parsed) || parsed < low || parsed > high) throw new RangeError(`--${name} must be an integer from ${low} to ${high}, got ${JSON.stringify(text)}`);
    return parsed;
  };
  return {
    seed: integer('seed', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31 - 1),
    seconds: integer('seconds', 120, ...bounds.seconds),
    nodes: integer('nodes', 3, ...bounds.nodes),
    compactEvery: integer('compact-every', 500, 0, 1_000_000),
    loseDatabaseOnKill: argv.includes('--lose-database-on-kill'),
  };
}
