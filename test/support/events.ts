/**
 * Deterministic Auth0 log events for tests, benchmarks and the demo tenant.
 *
 * Every event is a pure function of (options, index): `eventAt(i)` seeds a
 * small PRNG from the seed and the index, so a tenant of a million events can
 * produce any of them on demand without keeping them in memory, and a test can
 * recompute exactly what the tenant served. Math.random is never used, so a
 * failing run can be replayed.
 */

/** A log event as `GET /api/v2/logs` returns it (Management API shape, not the log-stream shape). */
export type TenantEvent = {
  log_id: string;
  _id?: string;
  date?: string;
  type?: string;
  description?: string | null;
  connection?: string;
  connection_id?: string;
  client_id?: string;
  client_name?: string;
  ip?: string;
  user_agent?: string;
  hostname?: string;
  user_id?: string;
  user_name?: string;
  strategy?: string;
  strategy_type?: string;
  isMobile?: boolean;
  details?: Record<string, unknown>;
  location_info?: LocationInfo;
  audience?: string;
  scope?: string;
  // Auth0 adds fields freely; a type alias (not an interface) keeps this assignable to Auth0Log.
  [key: string]: unknown;
};

export type LocationInfo = {
  country_code: string;
  country_code3: string;
  country_name: string;
  city_name: string;
  latitude: number;
  longitude: number;
  time_zone: string;
  continent_code: string;
};

export interface GenerateOptions {
  /** PRNG seed; the same seed and index always give the same event. Default 1. */
  seed?: number;
  /** Ingestion time of event 0 (the time inside its log_id). Default 2025-01-01T00:00:00Z. */
  start?: Date;
  /** Events ingested per second; may be fractional (0.5 = one every two seconds). Default 20. */
  perSecond?: number;
  /** An event's `date` is its ingestion time minus 0..dateJitterMs, so dates are out of log_id order. Default 2000. */
  dateJitterMs?: number;
  /** Every n-th event (n, 2n, …; 1-based) carries hostile text. 0 or absent: never. */
  hostileEvery?: number;
  /** Every n-th event carries a `details.blob` of 150,000+ characters. 0 or absent: never. */
  hugeEvery?: number;
}

interface Resolved {
  seed: number;
  startSec: number;
  perSecond: number;
  jitter: number;
  hostileEvery: number;
  hugeEvery: number;
}

const DEFAULT_START = Date.UTC(2025, 0, 1, 0, 0, 0);

// ---------------------------------------------------------------- PRNG

/** murmur3's finaliser: a cheap, well-mixed 32-bit hash. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A seeded PRNG returning floats in [0, 1) (splitmix32). */
export function createPrng(seed: number): () => number {
  let s = mix32(seed | 0) | 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    return mix32(s) / 4294967296;
  };
}

// One module-level stream, re-seeded per event: avoids allocating a closure per
// event, which matters when a million are generated. Generation is synchronous,
// so no two events ever interleave on it.
let state = 0;
function rnd(): number {
  state = (state + 0x9e3779b9) | 0;
  return mix32(state) / 4294967296;
}
function seedFor(seed: number, index: number): void {
  const lo = index >>> 0;
  const hi = Math.floor(index / 4294967296) >>> 0;
  state = mix32(mix32(lo ^ mix32(seed | 0)) + hi + 0x632be5ab) | 0;
}
function int(n: number): number {
  return Math.floor(rnd() * n);
}
function pick<T>(items: readonly T[]): T {
  return items[int(items.length)] as T;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const codeBuffer: number[] = [];
/** Built from char codes in one go: `+=` per character would leave a deep rope of string fragments per event. */
function randomString(length: number): string {
  codeBuffer.length = length;
  for (let k = 0; k < length; k++) codeBuffer[k] = ALNUM.charCodeAt(int(62));
  return String.fromCharCode.apply(null, codeBuffer);
}
function hexOf(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

// ---------------------------------------------------------------- log ids

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// Consecutive events mostly share a second; caching the formatted second
// keeps id generation cheap in bulk.
let cachedSec = Number.NaN;
let cachedStamp = '';
function stampOfSecond(sec: number): string {
  if (sec !== cachedSec) {
    const d = new Date(sec * 1000);
    cachedStamp =
      String(d.getUTCFullYear()).padStart(4, '0') +
      pad2(d.getUTCMonth() + 1) +
      pad2(d.getUTCDate()) +
      pad2(d.getUTCHours()) +
      pad2(d.getUTCMinutes()) +
      pad2(d.getUTCSeconds());
    cachedSec = sec;
  }
  return cachedStamp;
}

/**
 * A log id in Auth0's observed layout: "900" + UTC yyyymmddHHMMSS + 39 digits
 * (56 in all). The tail is `seq` zero-padded, so ids of one second increase
 * with `seq`, and ids of later seconds are always greater.
 */
export function makeLogId(date: Date, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`seq must be a non-negative safe integer, got ${seq}`);
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid date');
  return `900${stampOfSecond(Math.floor(ms / 1000))}${String(seq).padStart(39, '0')}`;
}

/** The ingestion second encoded in a standard 56-digit log id, or undefined for other shapes. */
export function logIdSecond(id: string): number | undefined {
  const m = /^900(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\d{39}$/.exec(id);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/**
 * Orders log ids as Auth0 documents ("ordered by the log_id"): Auth0's ids are decimal numbers, so
 * two of them compare as numbers (BigInt, written here rather than taken from the exporter); ids of
 * another shape (the suite's hostile ones) fall back to length, then text.
 */
export function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------- options

const resolvedCache = new WeakMap<GenerateOptions, Resolved>();

function positiveOrZero(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return value;
}

function resolve(options: GenerateOptions = {}): Resolved {
  const hit = resolvedCache.get(options);
  if (hit) return hit;
  const perSecond = options.perSecond ?? 20;
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError('perSecond must be > 0');
  const jitter = options.dateJitterMs ?? 2000;
  if (!(jitter >= 0) || !Number.isFinite(jitter)) throw new RangeError('dateJitterMs must be >= 0');
  const startMs = options.start ? options.start.getTime() : DEFAULT_START;
  if (!Number.isFinite(startMs)) throw new RangeError('start is an invalid date');
  const r: Resolved = {
    seed: options.seed ?? 1,
    startSec: Math.floor(startMs / 1000),
    perSecond,
    jitter,
    hostileEvery: positiveOrZero(options.hostileEvery, 'hostileEvery'),
    hugeEvery: positiveOrZero(options.hugeEvery, 'hugeEvery'),
  };
  resolvedCache.set(options, r);
  return r;
}

function secondOf(r: Resolved, index: number): number {
  return r.startSec + Math.floor(index / r.perSecond);
}

/** The log_id of event `index` without building the event (cheap; used for binary search). */
export function logIdAt(index: number, options?: GenerateOptions): string {
  const r = resolve(options);
  return `900${stampOfSecond(secondOf(r, index))}${String(index).padStart(39, '0')}`;
}

// ---------------------------------------------------------------- data pools

const CLIENTS = [
  { id: 'Xq7Lm2Pz9KdW4tRb8NcV1yHs6GfJ3aQe', name: 'Storefront (SPA)' },
  { id: 'Bv5Ns8Kq2Mx7Tz4Lw9Pd1Rc6Hy3Ja0Ge', name: 'Mobile App (iOS/Android)' },
  { id: 'Hd3Rp6Wt1Ys9Qm4Vn7Lk2Bx8Cz5Fa0Ju', name: 'Partner Portal' },
  { id: 'Tn9Gc4Jw7Ke2Pv5Xs8Rm1Ld6Hb3Qy0Za', name: 'Backoffice API (M2M)' },
  { id: 'Mf2Yk8Sd5Qh1Wn7Zc4Tv9Gp6Lx3Rb0Je', name: 'Support Dashboard' },
] as const;

const CONNECTIONS = [
  { connection: 'Username-Password-Authentication', connection_id: 'con_Xk3dP9qLm2Vt8RwZ', strategy: 'auth0', strategy_type: 'database', prefix: 'auth0' },
  { connection: 'google-oauth2', connection_id: 'con_Gq7hN2bYc5Kd1LsE', strategy: 'google-oauth2', strategy_type: 'social', prefix: 'google-oauth2' },
  { connection: 'email', connection_id: 'con_Pw4mT8vJx6Hn3QaR', strategy: 'email', strategy_type: 'passwordless', prefix: 'email' },
  { connection: 'acme-corp-saml', connection_id: 'con_Lz1cS5fRk9Wy2BnD', strategy: 'samlp', strategy_type: 'enterprise', prefix: 'samlp|acme-corp-saml' },
] as const;
// Most logins go through the database connection.
const CONNECTION_WEIGHTS = [6, 3, 1, 1];

const USER_AGENTS = [
  'Chrome 126.0.0 / Mac OS X 10.15.7',
  'Safari 17.5 / iOS 17.5.1',
  'Firefox 127.0.0 / Windows 10.0.0',
  'Edge 125.0.0 / Windows 10.0.0',
  'Chrome Mobile 126.0.0 / Android 14.0.0',
  'okhttp 4.12.0 / Other 0.0.0',
  'node-fetch 2.7.0 / Other 0.0.0',
];

const FIRST = ['ana', 'bo', 'chen', 'dario', 'eva', 'farah', 'goran', 'hana', 'ivo', 'jun', 'kemal', 'lea', 'mia', 'noor', 'omar', 'pia'];
const LAST = ['silva', 'nakamura', 'okafor', 'novak', 'haddad', 'jensen', 'garcia', 'kowalski', 'ibrahim', 'schmidt'];

// Shared by many events, so frozen: a consumer that mutated one would silently change others.
const LOCATIONS: readonly LocationInfo[] = Object.freeze([
  { country_code: 'US', country_code3: 'USA', country_name: 'United States', city_name: 'Chicago', latitude: 41.85, longitude: -87.65, time_zone: 'America/Chicago', continent_code: 'NA' },
  { country_code: 'DE', country_code3: 'DEU', country_name: 'Germany', city_name: 'Berlin', latitude: 52.52, longitude: 13.405, time_zone: 'Europe/Berlin', continent_code: 'EU' },
  { country_code: 'BR', country_code3: 'BRA', country_name: 'Brazil', city_name: 'São Paulo', latitude: -23.55, longitude: -46.633, time_zone: 'America/Sao_Paulo', continent_code: 'SA' },
  { country_code: 'JP', country_code3: 'JPN', country_name: 'Japan', city_name: 'Tokyo', latitude: 35.69, longitude: 139.69, time_zone: 'Asia/Tokyo', continent_code: 'AS' },
  { country_code: 'NG', country_code3: 'NGA', country_name: 'Nigeria', city_name: 'Lagos', latitude: 6.45, longitude: 3.39, time_zone: 'Africa/Lagos', continent_code: 'AF' },
].map((location) => Object.freeze(location)));

const SAPI_OPERATIONS = [
  { description: 'Update a client', method: 'patch', path: '/api/v2/clients/' },
  { description: 'Create a User', method: 'post', path: '/api/v2/users' },
  { description: 'Update tenant settings', method: 'patch', path: '/api/v2/tenants/settings' },
  { description: 'Delete a connection', method: 'delete', path: '/api/v2/connections/' },
  { description: 'Update a user', method: 'patch', path: '/api/v2/users/' },
] as const;

/** Codes no table knows: a shipper must pass these through rather than drop or crash on them. */
export const UNKNOWN_TYPES = ['zz_new_type', 'zz_preview_feature_event'] as const;

// Weights loosely follow a consumer tenant: mostly logins and token exchanges.
const TYPE_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ['s', 300],
  ['ssa', 120],
  ['seacft', 100],
  ['sapi', 60],
  ['f', 30],
  ['fp', 60],
  ['fu', 30],
  ['w', 20],
  ['sepft', 60],
  ['slo', 50],
  ['pla', 40],
  ['api_limit_warning', 8],
  ['gd_send_sms', 30],
  ['limit_wc', 6],
  [UNKNOWN_TYPES[0], 3],
  [UNKNOWN_TYPES[1], 2],
];
const TYPE_TOTAL = TYPE_WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

function pickType(): string {
  let x = rnd() * TYPE_TOTAL;
  for (const [type, w] of TYPE_WEIGHTS) {
    if (x < w) return type;
    x -= w;
  }
  return 's';
}

function pickConnection(): (typeof CONNECTIONS)[number] {
  let x = int(11);
  for (let k = 0; k < CONNECTIONS.length; k++) {
    const w = CONNECTION_WEIGHTS[k] as number;
    if (x < w) return CONNECTIONS[k] as (typeof CONNECTIONS)[number];
    x -= w;
  }
  return CONNECTIONS[0];
}

// ---------------------------------------------------------------- hostile and huge content

/**
 * Text that breaks naive log shippers: line breaks that split a syslog line,
 * NUL and other C0 controls, unpaired surrogates (not encodable as UTF-8),
 * Unicode line separators, emoji and bidi text, and a forged syslog header.
 */
export const hostileStrings: readonly string[] = [
  'line one\nline two',
  'carriage\rreturn',
  'crlf\r\nInjected-Header: yes',
  'nul\u0000byte',
  'controls \u0001\u0002\u0007\u0008\u000b\u000c\u001b[31mred\u001b[0m\u007f end',
  'lone high \uD800 surrogate',
  'lone low \uDC00 surrogate',
  'reversed pair \uDC00\uD800 here',
  'line sep\u2028para sep\u2029next line\u0085end',
  'emoji 🔐👩‍💻🏳️‍🌈 done',
  'RTL שלום עולם مرحبا \u202Eexe.txt\u202C',
  '<134>1 fake syslog header',
  '\n<134>1 2025-01-01T00:00:00Z evil.example forged - - - injected line',
  'tab\tquote" backslash\\ brace} bracket]',
  'bom\uFEFFzero\u200Bwidth',
];

const ALL_HOSTILE = hostileStrings.join(' | ');

// Repeated whole, never sliced, so no surrogate pair is ever cut in half.
const BLOB_UNIT = 'The quick brown fox jumps over the lazy dog — naïve café 東京 🙂 Ω≈ç√ ';
let blobBody: string | undefined;
function hugeBlob(index: number): string {
  if (blobBody === undefined) {
    const parts: string[] = [];
    let length = 0;
    while (length < 150_000) {
      parts.push(BLOB_UNIT);
      length += BLOB_UNIT.length;
    }
    blobBody = parts.join('');
  }
  // The index prefix makes each huge event distinct without rebuilding the body.
  return `blob#${index} ${blobBody}`;
}

// ---------------------------------------------------------------- events

function ipAddress(): string {
  const r = int(10);
  if (r < 5) return `203.0.113.${1 + int(254)}`;
  if (r < 8) return `198.51.100.${1 + int(254)}`;
  if (r < 9) return `192.0.2.${1 + int(254)}`;
  return `2001:db8::${hexOf(int(65536), 1)}`;
}

type User = { user_id: string; user_name: string };
const USER_POOL = 20_000;
// Users are drawn from a fixed pool; caching them lets a million retained
// events share their id and name strings instead of each holding copies.
const userCache = new Map<string, User[]>();

function makeUser(conn: (typeof CONNECTIONS)[number], n: number): User {
  const h = mix32(n + 0x5bd1e995);
  const name = `${FIRST[n % FIRST.length]}.${LAST[(n >>> 4) % LAST.length]}${n}`;
  switch (conn.strategy_type) {
    case 'social':
      return { user_id: `google-oauth2|1${String(h).padStart(10, '0')}${String(n).padStart(10, '0')}`, user_name: `${name}@gmail.example` };
    case 'enterprise':
      return { user_id: `samlp|acme-corp-saml|${name}@acme.example`, user_name: `${name}@acme.example` };
    default:
      return { user_id: `${conn.prefix}|${hexOf(h, 8)}${hexOf(mix32(h), 8)}${hexOf(n, 8)}`, user_name: `${name}@example.com` };
  }
}

function userFor(conn: (typeof CONNECTIONS)[number]): User {
  const n = int(USER_POOL);
  let pool = userCache.get(conn.connection);
  if (!pool) {
    pool = [];
    userCache.set(conn.connection, pool);
  }
  let user = pool[n];
  if (!user) {
    user = makeUser(conn, n);
    pool[n] = user;
  }
  return user;
}

const HOSTNAME = 'example-tenant.us.auth0.com';

/** The fields every end-user authentication event carries. */
function addLogin(
  event: TenantEvent,
  conn: (typeof CONNECTIONS)[number],
  client: (typeof CLIENTS)[number],
  user: User,
  ip: string,
  userAgent: string,
): void {
  event.connection = conn.connection;
  event.connection_id = conn.connection_id;
  event.client_id = client.id;
  event.client_name = client.name;
  event.ip = ip;
  event.user_agent = userAgent;
  event.hostname = HOSTNAME;
  event.user_id = user.user_id;
  event.user_name = user.user_name;
  event.strategy = conn.strategy;
  event.strategy_type = conn.strategy_type;
}

function hostileAt(k: number): string {
  return hostileStrings[k % hostileStrings.length] as string;
}

/**
 * Event `index` (0-based) of the tenant described by `options`. Pure: the same
 * arguments always give an equal event.
 */
export function eventAt(index: number, options?: GenerateOptions): TenantEvent {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`index must be a non-negative safe integer, got ${index}`);
  const r = resolve(options);
  seedFor(r.seed, index);

  const sec = secondOf(r, index);
  const id = `900${stampOfSecond(sec)}${String(index).padStart(39, '0')}`;
  // Ingestion times spread through the second in index order, so with no
  // jitter `date` order equals log_id order; jitter then pulls dates back.
  const within = index - Math.floor(index / r.perSecond) * r.perSecond;
  const ingestedMs = sec * 1000 + Math.floor((within / r.perSecond) * 1000);
  const dateMs = ingestedMs - Math.floor(rnd() * (r.jitter + 1));

  const type = pickType();
  const client = pick(CLIENTS);
  const conn = pickConnection();
  const user = userFor(conn);
  const ip = ipAddress();
  const userAgent = pick(USER_AGENTS);
  const isMobile = rnd() < 0.15;
  const location = rnd() < 0.6 ? pick(LOCATIONS) : undefined;

  const event: TenantEvent = { log_id: id, _id: id, date: new Date(dateMs).toISOString(), type, description: '' };
  switch (type) {
    case 's': {
      addLogin(event, conn, client, user, ip, userAgent);
      const elapsed = 200 + int(4000);
      event.details = {
        prompts: [{ name: 'login', completedAt: dateMs - 5, elapsedTime: elapsed }],
        initiatedAt: dateMs - elapsed,
        completedAt: dateMs,
        elapsedTime: elapsed,
        session_id: randomString(32),
        stats: { loginsCount: 1 + int(500) },
      };
      break;
    }
    case 'ssa':
      addLogin(event, conn, client, user, ip, userAgent);
      event.details = { prompts: [], completedAt: dateMs, elapsedTime: null, session_id: randomString(32) };
      break;
    case 'seacft':
    case 'sepft':
      addLogin(event, conn, client, user, ip, userAgent);
      event.description = type === 'seacft' ? 'Authorization Code for Access Token' : 'Password for Access Token';
      event.details = type === 'seacft' ? { code: `*************${randomString(3)}` } : { actions: { executions: [randomString(24)] } };
      event.audience = 'https://api.example.com/';
      event.scope = 'openid profile email offline_access';
      break;
    case 'sapi': {
      const op = pick(SAPI_OPERATIONS);
      const target = op.path.endsWith('/') ? `${op.path}${randomString(16)}` : op.path;
      event.description = op.description;
      event.client_id = client.id;
      event.client_name = '';
      event.ip = ip;
      event.user_agent = userAgent;
      event.user_id = 'google-oauth2|100000000000000000001';
      event.details = {
        request: {
          method: op.method,
          path: target,
          query: {},
          userAgent,
          channel: 'https://manage.auth0.com/',
          ip,
          auth: { user: { user_id: 'google-oauth2|100000000000000000001', name: 'Tenant Admin', email: 'admin@example.com' }, strategy: 'jwt_api2_internal_token', credentials: { scopes: ['read:clients', 'update:clients'] } },
        },
        response: { statusCode: op.method === 'post' ? 201 : op.method === 'delete' ? 204 : 200, body: {} },
      };
      break;
    }
    case 'f':
    case 'fp':
    case 'fu': {
      addLogin(event, conn, client, user, ip, userAgent);
      const message = type === 'fu' ? 'Wrong email or password.' : type === 'fp' ? 'Wrong email or password.' : pick(['Invalid thumbprint (configured: 5C1F…)', 'Callback URL mismatch.', 'Wrong email or password.']);
      event.description = message;
      event.details = { error: { message } };
      break;
    }
    case 'w':
      addLogin(event, conn, client, user, ip, userAgent);
      event.description = pick(['Unable to issue redirect for OAuth 2.0 transaction', 'Using the default password policy is deprecated']);
      event.details = {};
      break;
    case 'slo':
      addLogin(event, conn, client, user, ip, userAgent);
      event.description = 'User successfully logged out.';
      event.details = { return_to: 'https://app.example.com/', allowed_logout_url: ['https://app.example.com/'], session_id: randomString(32) };
      break;
    case 'pla':
      addLogin(event, conn, client, user, ip, userAgent);
      event.description = 'Pre-login assessment';
      event.details = { riskAssessment: { confidence: pick(['low', 'medium', 'high']), version: '1' } };
      break;
    case 'api_limit_warning':
      event.description = 'Rate limit warning: 80% of the Management API global limit used';
      event.ip = ip;
      event.hostname = HOSTNAME;
      event.details = { path: '/api/v2/logs', limit: 10, remaining: 2 };
      break;
    case 'gd_send_sms':
      addLogin(event, conn, client, user, ip, userAgent);
      event.description = 'Guardian - SMS for MFA sent';
      event.details = { to: `+1555010${String(int(100)).padStart(2, '0')}`, authenticator: { provider: 'twilio' } };
      break;
    case 'limit_wc':
      addLogin(event, conn, client, user, ip, userAgent);
      event.description = 'Blocked IP address: too many failed logins to a single account';
      event.details = { attempts: 10 + int(20) };
      break;
    default:
      // An event type added after every table in the exporter was written.
      event.ip = ip;
      event.hostname = HOSTNAME;
      event.description = 'An event type this exporter has never seen';
      event.details = { preview: true, version: 1 + int(3) };
      break;
  }
  event.isMobile = isMobile;
  if (location) event.location_info = location;

  const ordinal = index + 1;
  if (r.hostileEvery > 0 && ordinal % r.hostileEvery === 0) {
    const k = Math.floor(ordinal / r.hostileEvery);
    event.description = hostileAt(k);
    event.user_name = hostileAt(k + 1);
    event.details = {
      ...(event.details ?? {}),
      note: hostileAt(k + 2),
      all: ALL_HOSTILE,
      // Hostile text in a key, too: a shipper that escapes values only would miss it.
      [`key\n${hostileAt(k + 3)}`]: { nested: [hostileAt(k + 4), hostileAt(k + 5)] },
    };
  }
  if (r.hugeEvery > 0 && ordinal % r.hugeEvery === 0) {
    event.details = { ...(event.details ?? {}), blob: hugeBlob(index) };
  }
  return event;
}

/** `count` events, 0..count-1, in log_id order. */
export function generateEvents(count: number, options?: GenerateOptions): TenantEvent[] {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
  const opts = options ?? {};
  const out = new Array<TenantEvent>(count);
  for (let i = 0; i < count; i++) out[i] = eventAt(i, opts);
  return out;
}
