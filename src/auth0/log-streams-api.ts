/**
 * Auth0's log-streams endpoints of the Management API (list, get, create,
 * patch), over the same client as the logs: one token, one reading of the
 * rate limit, the same retries. A 403 says which scope the application lacks.
 */
import { Auth0ApiError } from '../errors';
import type { ManagementApiClient } from './management-api-client';

export type LogStreamStatus = 'active' | 'paused' | 'suspended';
export const LOG_STREAM_STATUSES: readonly LogStreamStatus[] = ['active', 'paused', 'suspended'];

/** A Custom Webhook stream's sink, as Auth0 names its fields. */
export interface HttpSink {
  httpEndpoint: string;
  httpContentType: string;
  httpContentFormat: 'JSONLINES' | 'JSONARRAY' | 'JSONOBJECT';
  httpAuthorization: string;
}

export interface LogStreamInfo {
  id: string;
  name: string;
  type: string;
  status: LogStreamStatus;
  /** What Auth0 returned; may hold the Authorization value, so never printed as it is. */
  sink: Record<string, unknown>;
}

type Bounds = { deadline: number; signal?: AbortSignal };
type Call = Pick<ManagementApiClient, 'call'>;

const PATH = '/api/v2/log-streams';

export class LogStreamsApi {
  constructor(private readonly client: Call, private readonly bounds: () => Bounds) {}

  async list(): Promise<LogStreamInfo[]> {
    const body = await this.request('GET', PATH, undefined, 'read:log_streams');
    if (!Array.isArray(body)) throw badResponse(PATH, 'a list');
    return body.map((entry) => parseStream(entry, PATH));
  }

  async get(id: string): Promise<LogStreamInfo> {
    const path = `${PATH}/${encodeURIComponent(id)}`;
    return parseStream(await this.request('GET', path, undefined, 'read:log_streams'), path);
  }

  async create(name: string, sink: HttpSink): Promise<LogStreamInfo> {
    return parseStream(await this.request('POST', PATH, { name, type: 'http', sink }, 'create:log_streams'), PATH);
  }

  async update(id: string, change: { name?: string; sink?: Partial<HttpSink>; status?: LogStreamStatus }): Promise<LogStreamInfo> {
    const path = `${PATH}/${encodeURIComponent(id)}`;
    return parseStream(await this.request('PATCH', path, change, 'update:log_streams'), path);
  }

  private async request(method: 'GET' | 'POST' | 'PATCH', path: string, body: unknown, scope: string): Promise<unknown> {
    try {
      return await this.client.call(method, path, body, this.bounds());
    } catch (error) {
      if (error instanceof Auth0ApiError && error.status === 403) throw new MissingScopeError(scope, error);
      throw error;
    }
  }
}

/** The application may not do this: grant `scope` to it on the Management API. */
export class MissingScopeError extends Auth0ApiError {
  constructor(readonly scope: string, cause: Auth0ApiError) {
    super(
      `Auth0 refused (403): ${cause.message.replace(/^Auth0 \S+ answered 403: /, '').replace(/\.$/, '')}. Grant the ${scope} scope to this application: Auth0 Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications → this application → ${scope}.`,
      { status: 403, code: 'AUTH0_MISSING_SCOPE', retriable: false, cause, endpoint: PATH },
    );
  }
}

function badResponse(path: string, what: string): Auth0ApiError {
  return new Auth0ApiError(`Auth0 ${path} answered without ${what} of log streams.`, { status: 200, code: 'AUTH0_BAD_RESPONSE', endpoint: path, retriable: false });
}

function parseStream(raw: unknown, path: string): LogStreamInfo {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badResponse(path, 'a description');
  const r = raw as Record<string, unknown>;
  if (typeof r['id'] !== 'string' || typeof r['type'] !== 'string' || !LOG_STREAM_STATUSES.includes(r['status'] as LogStreamStatus)) throw badResponse(path, 'the id, type and status');
  const sink = typeof r['sink'] === 'object' && r['sink'] !== null ? (r['sink'] as Record<string, unknown>) : {};
  return { id: r['id'], name: typeof r['name'] === 'string' ? r['name'] : '', type: r['type'], status: r['status'] as LogStreamStatus, sink };
}

/** The endpoint as it may be shown: scheme, host and path; never credentials or a query. */
export function displayEndpoint(endpoint: unknown): string | null {
  if (typeof endpoint !== 'string') return null;
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** Whether `stream` sends `token` (as given, or after "Bearer "): the stream this service receives. */
export function sendsToken(stream: LogStreamInfo, token: string): boolean {
  const auth = stream.sink['httpAuthorization'];
  return stream.type === 'http' && typeof auth === 'string' && (auth === token || auth === `Bearer ${token}`);
}
