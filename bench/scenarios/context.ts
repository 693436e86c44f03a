import type { ServerCert } from '../../test/support/certs';
import type { BenchOptions } from '../lib/options';

/** What every scenario gets from run.ts. */
export interface Context {
  options: BenchOptions;
  /** Temp dir for receivers and state, removed at the end. */
  root: string;
  /** Server certificate of the test CA, used by both the tenant and rsyslogd; clients trust `cert.caFile`. */
  cert: ServerCert;
  /** A progress line on stderr. */
  progress(message: string): void;
}

export const MB = 1024 * 1024;

/** [0, 1, …, n-1] rotated by `by`: run r starts with a different variant, so slow drift on a shared machine hits each alike. */
export function rotated<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
