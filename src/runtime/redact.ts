/**
 * Last line of defence for "secrets never appear in any output": every line
 * printed, every report returned and every record stored passes through here.
 * The code is written not to put secrets in messages in the first place.
 */
export type Redactor = <T>(value: T) => T;

const MASK = '[redacted]';

export function createRedactor(secrets: readonly (string | undefined)[]): Redactor {
  // Very short values would mask ordinary words; config requires real secrets anyway.
  const needles = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= 6))].sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (value) => value;
  const scrub = (text: string): string => needles.reduce((out, needle) => out.split(needle).join(MASK), text);
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return scrub(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return <T>(value: T): T => walk(value) as T;
}
