/**
 * `stream setup`: the Custom Webhook log stream that sends to this service,
 * created through the Management API or brought back in line with the
 * settings, and left alone when it already is (so running it again is safe).
 * The endpoint is checked before any request: Auth0 delivers only to a
 * public https address, and a loopback or private one would be a stream that
 * never delivers.
 */
import { BlockList, isIP } from 'node:net';
import { OUTCOME_UNKNOWN } from '../auth0/management-api-client';
import { Auth0ApiError } from '../errors';
import { displayEndpoint, sendsToken, type HttpSink, type LogStreamInfo, type LogStreamsApi } from '../auth0/log-streams-api';

/** The stream's name in the tenant when --name is not given. */
export const DEFAULT_STREAM_NAME = 'auth0-logs-to-papertrail';

/** Addresses Auth0 cannot reach: loopback, private, link-local, shared (CGNAT), unspecified, documentation. */
const UNREACHABLE = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 3]] as const) {
  UNREACHABLE.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['2001:db8::', 32], ['ff00::', 8]] as const) {
  UNREACHABLE.addSubnet(net, bits, 'ipv6');
}

/** Why Auth0 could not deliver to `raw`; null when it is a public https URL. */
export function endpointProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `"${raw}" is not a URL; give the full address of this service's log-stream endpoint, e.g. https://logs.example.com/log-stream.`;
  }
  if (url.protocol !== 'https:') return `${url.protocol}// is refused: Auth0 delivers log streams over https only, to a certificate a public CA issued. Use https://<public host>/log-stream.`;
  if (url.username !== '' || url.password !== '') return 'the URL holds credentials; the stream authenticates with LOG_STREAM_TOKEN (sent as its Authorization header), so give the URL without them.';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const version = isIP(host);
  const mapped = version === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host)?.[1] : undefined;
  const unreachable =
    version === 4 ? UNREACHABLE.check(host, 'ipv4')
    : mapped !== undefined ? UNREACHABLE.check(mapped, 'ipv4')
    : version === 6 ? UNREACHABLE.check(host, 'ipv6')
    : /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/i.test(host) || !host.includes('.');
  if (unreachable) return `${host} is a loopback, private or local address that Auth0 cannot reach. Give the public host name under which this service (or its proxy) answers, e.g. https://logs.example.com/log-stream.`;
  return null;
}

export interface SetupRequest {
  url: string;
  token: string;
  name: string;
  /** LOG_STREAM_ID, when set: the stream to update. */
  id: string | null;
}

export interface SetupResult {
  action: 'created' | 'updated' | 'unchanged';
  stream: LogStreamInfo;
  /** The sink fields that differed (names only, never values). */
  changed: string[];
}

/** The sink the service reads: JSON, one array per request, authenticated with the stream token. */
export function desiredSink(url: string, token: string): HttpSink {
  return { httpEndpoint: url, httpContentType: 'application/json', httpContentFormat: 'JSONARRAY', httpAuthorization: `Bearer ${token}` };
}

/** The stream set up before: by id, else by name, else the http stream already sending our token or to this endpoint. */
export async function findOurStream(api: Pick<LogStreamsApi, 'get' | 'list'>, want: { id: string | null; name: string; token: string; url?: string }): Promise<LogStreamInfo | null> {
  if (want.id !== null) return api.get(want.id);
  const all = (await api.list()).filter((s) => s.type === 'http');
  return all.find((s) => s.name === want.name) ?? all.find((s) => sendsToken(s, want.token)) ?? all.find((s) => want.url !== undefined && s.sink['httpEndpoint'] === want.url) ?? null;
}

export async function setupStream(api: LogStreamsApi, request: SetupRequest): Promise<SetupResult> {
  const sink = desiredSink(request.url, request.token);
  const found = await findOurStream(api, { id: request.id, name: request.name, token: request.token, url: request.url });
  if (found === null) return { action: 'created', stream: await createOnce(api, request, sink), changed: [] };
  const changed = (Object.keys(sink) as Array<keyof HttpSink>).filter((key) => found.sink[key] !== sink[key]);
  // Found by id, token or endpoint under another name: take ours, so the next run finds it by name.
  const renamed = found.name !== request.name;
  if (changed.length === 0 && !renamed) return { action: 'unchanged', stream: found, changed: [] };
  const patch: { name?: string; sink?: Partial<HttpSink> } = {};
  if (renamed) patch.name = request.name;
  if (changed.length > 0) patch.sink = Object.fromEntries(changed.map((key) => [key, sink[key]])) as Partial<HttpSink>;
  return { action: 'updated', stream: await api.update(found.id, patch), changed: [...(renamed ? ['name'] : []), ...changed] };
}

/** Creates are not retried blindly; after one whose outcome is unknown, look for the stream before creating again. */
const CREATE_ATTEMPTS = 3;

/** Creates the stream once: a create that may have succeeded without an answer is found, never sent twice. */
async function createOnce(api: LogStreamsApi, request: SetupRequest, sink: HttpSink): Promise<LogStreamInfo> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.create(request.name, sink);
    } catch (error) {
      if (!(error instanceof Auth0ApiError && error.code === OUTCOME_UNKNOWN) || attempt >= CREATE_ATTEMPTS) throw error;
      const found = await findOurStream(api, { id: null, name: request.name, token: request.token, url: request.url });
      if (found !== null) return found;
    }
  }
}

/** What may be printed about a stream: never the Authorization value, only whether one is set. */
export function describeStream(stream: LogStreamInfo): Record<string, unknown> {
  return {
    id: stream.id,
    name: stream.name,
    type: stream.type,
    status: stream.status,
    endpoint: displayEndpoint(stream.sink['httpEndpoint']),
    contentFormat: stream.sink['httpContentFormat'] ?? null,
    authorization: typeof stream.sink['httpAuthorization'] === 'string' && stream.sink['httpAuthorization'] !== '' ? 'set' : 'not set',
  };
}
