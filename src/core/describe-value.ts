// A value in an option's error message, as the caller wrote it (shared by every option check).

/**
 * A value as the caller wrote it: a number plainly, anything else (untyped JavaScript, a parsed
 * setting) quoted with its type, so `heartbeatInterval = "50"` does not read like a valid 50.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return 'a function';
  let written: string | undefined;
  try {
    written = JSON.stringify(value);
  } catch {
    written = undefined;
  }
  return `${written ?? String(value)} (${value === null ? 'null' : typeof value})`;
}
