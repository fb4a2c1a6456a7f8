/** The value at quantile q (0..1) of an ascending array; 0 for an empty one. */
export function percentile(sorted: readonly number[], quantile: number): number {
  if (sorted.length === 0) return 0;
  const position = Math.min(sorted.length - 1, Math.max(0, Math.ceil(quantile * sorted.length) - 1));
  return sorted[position] as number;
}

export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** The `--rounds=N` of a bench command, or `fallback`; anything else exits 2 with the command's usage. */
export function roundsOption(command: string, fallback: number): number {
  const known = /^--rounds=[1-9]\d*$/;
  const unknown = process.argv.slice(2).filter((argument) => !known.test(argument));
  if (unknown.length > 0) {
    console.error(`usage: npm run ${command} [-- --rounds=N]; unknown: ${unknown.join(' ')}`);
    process.exit(2);
  }
  return Number(process.argv.find((argument) => known.test(argument))?.split('=')[1] ?? fallback);
}

/** The middle value (the upper of the two middles for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
}
