/**
 * The service's JSON endpoints, at URLs relative to the page (under webtask
 * the page lives below a path prefix). The admin token is kept for this tab
 * only (sessionStorage) and sent as a bearer header: never in a URL, a
 * cookie or anything the server logs.
 */
const TOKEN_KEY = 'auth0-logs-to-papertrail:admin-token';

export interface ErrorInfo {
  code: string;
  name?: string;
  message?: string;
  settings?: string[];
}

export interface Health {
  /** `reship-pending`: pages in doubt wait to be shipped again (reshipPending, takeBackPending). */
  status: 'ok' | 'failing' | 'idle' | 'reship-pending';
  running: boolean;
  paused: boolean;
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  /** How far behind the last successful run stopped, 0 when it caught up (as /metrics); null before one. */
  lagSeconds: number | null;
  /** The age of the newest log exported; null before any. */
  newestExportedAgeSeconds?: number | null;
  /** Whether GET /runs answers without the admin token. */
  historyOpen?: boolean;
  /** Whether GET /progress (the admin's live view) exists: the service only. */
  liveProgress?: boolean;
  /** A range in doubt recorded in the state, shipped first by the next run. */
  reshipPending?: { after: string; through: string };
  /** The service only: take-backs no run could write yet, retried until recorded. */
  takeBackPending?: { after: string; through: string }[];
  /** Only the service has a schedule of its own. */
  nextRunAt?: string | null;
  /** Only a service that receives an Auth0 log stream reports one. */
  logStream?: LogStream;
  [field: string]: unknown;
}

/** What /health says of the log stream (the service's LogStreamActivity). */
export interface LogStream {
  mode: 'hybrid' | 'stream-only';
  status: 'ok' | 'waiting' | 'silent';
  problem?: string;
  lastDeliveryAt: string | null;
  records: number;
  shipped: number;
  redeliveriesSkipped: number;
  gapFills: number;
  /** The counts of every replica sharing the state (the ones above are this replica's since it started). */
  allReplicas?: { deliveries: number; records: number; shipped: number; gapFills: number };
  /** The stream's status in Auth0, when the service reads it (LOG_STREAM_STATUS_SECONDS). */
  auth0?: {
    status: 'active' | 'paused' | 'suspended' | 'unknown';
    name: string | null;
    checkedAt: string | null;
    problem?: string;
    inactiveSince: string | null;
    autoResume: { enabled: boolean; resumes: number; lastResumedAt: string | null };
  };
}

/** A run as /runs lists it: admins get the whole record, others a summary. */
export interface Run {
  id: string;
  trigger: string;
  status: string;
  startedAt: string;
  finishedAt?: string;
  durationMs: number;
  fetched: number;
  exported: number;
  filteredOut: number;
  truncated: number;
  pages: number;
  stoppedBy: string;
  lagSeconds?: number | null;
  startCheckpoint?: string | null;
  checkpoint?: string | null;
  warnings?: string[];
  error?: ErrorInfo;
}

export interface Runs {
  runs: Run[];
  /** Present only in an admin's answer. */
  checkpoint?: string | null;
  paused?: boolean;
  /** What leaves the tenant (an admin's answer only). */
  settings?: ExportSettings;
}

/** The server's ExportSettings (src/http/export-settings.ts). */
export interface ExportSettings {
  messageFormat: 'json' | 'summary';
  omitFields: string[];
  personalData: { fields: string[]; method: 'mask' | 'hash' } | null;
}

/** POST /check's answer: the same checklist as `auth0-logs-to-papertrail check`. */
export interface Checklist {
  ok: boolean;
  items: { name: string; status: 'ok' | 'failed' | 'skipped'; detail: string; fix?: string }[];
}

export interface Answer<T> {
  status: number;
  body: T | undefined;
}

export const token = {
  get(): string | null {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null; // storage disabled: the visitor stays a visitor
    }
  },
  set(value: string): void {
    try {
      sessionStorage.setItem(TOKEN_KEY, value);
    } catch {
      // storage disabled: the token lives only as long as this page
    }
  },
  clear(): void {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // nothing stored
    }
  },
};

export async function call<T>(method: 'GET' | 'POST', path: string, options: { body?: unknown; token?: string | null } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    cache: 'no-store',
    credentials: 'omit',
    redirect: 'error',
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  let body: T | undefined;
  try {
    body = (await res.json()) as T;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}
