// `npm run chaos -- [--seed S] [--seconds N] [--nodes 3]`: a campaign's options, validated.

export interface ChaosOptions {
  readonly seed: number;
  readonly seconds: number;
  readonly nodes: number;
  readonly compactEvery: number;
}

const bounds = { seconds: [5, 3_600], nodes: [3, 5] } as const;

export function parseOptions(argv: readonly string[]): ChaosOptions {
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
  };
}
