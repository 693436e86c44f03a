/**
 * One event from `GET /api/v2/logs`. Auth0 documents every field as optional
 * and adds new ones freely, so only what this program relies on is typed.
 */
export interface Auth0Log {
  log_id?: string;
  /** Older responses (and the original extension) use `_id`; current ones carry both. */
  _id?: string;
  date?: string;
  type?: string;
  description?: string | null;
  [key: string]: unknown;
}

/** The checkpoint id of a log: `log_id`, falling back to `_id`. */
export function logIdOf(log: Auth0Log): string | undefined {
  const id = log.log_id ?? log._id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}
