/**
 * The omit stage: OMIT_FIELDS' dotted paths are dropped from every event
 * before it is formatted (Papertrail bills by volume, and some sub-trees are
 * bulky and rarely read). A path through an array applies to each of its
 * elements (`details.prompts.elapsedTime`). `log_id`, `type` and `date` can
 * never be omitted: config refuses them. The event given is never changed.
 */
import type { Auth0Log } from '../auth0/auth0-log';

/** The fields an exported event always keeps: its identity, its type (MSGID) and its date (TIMESTAMP). */
export const NEVER_OMITTED = ['log_id', 'type', 'date'] as const;

export type OmitPath = readonly string[];

function without(value: unknown, path: OmitPath, at: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const next = without(value[i], path, at);
      if (next !== value[i]) {
        copy ??= value.slice();
        copy[i] = next;
      }
    }
    return copy ?? value;
  }
  const key = path[at] as string;
  if (!Object.hasOwn(value, key)) return value;
  const record = value as Record<string, unknown>;
  const last = at === path.length - 1;
  const next = last ? undefined : without(record[key], path, at + 1);
  if (!last && next === record[key]) return value;
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (k === key && last) continue;
    const kept = k === key ? next : v;
    if (k === '__proto__') Object.defineProperty(copy, k, { value: kept, enumerable: true, writable: true, configurable: true });
    else copy[k] = kept;
  }
  return copy;
}

/** The event without the given paths. */
export function omitFields(log: Auth0Log, paths: readonly OmitPath[]): Auth0Log {
  let out: unknown = log;
  for (const path of paths) out = without(out, path, 0);
  return out as Auth0Log;
}
