/**
 * Settings, parsed once into a typed object. Every rule is checked and every
 * problem is reported together, each with its fix, before anything is
 * fetched: a half-valid configuration never starts a run.
 */
import { isIP } from 'node:net';
import { ConfigError, type SettingProblem } from './errors';
import { lookupLogType, type LogLevel } from './auth0/log-types';
import type { MessageFormat, MessageSettings } from './stages/format-log';
import { NEVER_OMITTED, type OmitPath } from './stages/omit-fields';
import { PII_FIELD_NAMES, type PiiField, type PiiSettings } from './stages/personal-data';

export type Environment = Readonly<Record<string, string | undefined>>;
export type Runtime = 'standalone' | 'webtask';

export interface Config {
  auth0: { domain: string; clientId: string; clientSecret: string };
  papertrail: {
    host: string;
    port: number;
    system: string;
    program: string;
    /** Ingestion token of a token destination, sent as the SD element [<token>@41058]; null for a legacy destination. */
    token: string | null;
    /** What of each event is sent and how it reads (OMIT_FIELDS, PII_*, MESSAGE_FORMAT); the same on every path. */
    message?: MessageSettings;
  };
  batchSize: number;
  /** Pages confirmed together (one TLS connection and one state write); a crash can re-ship this many. */
  pagesPerShipment: number;
  filter: LogFilter;
  /** A log id to start after; applied once per distinct value (see README, "Starting point"). */
  startFrom: string | null;
  /** The SQLite database of the standalone state (unused when stateUrl is set). */
  storageFile: string;
  /** A PostgreSQL URL holding the standalone state instead; null = SQLite at storageFile. */
  stateUrl: string | null;
  /** Where a JSON state file of an earlier version may lie, to migrate once: STORAGE_FILE itself, or the old default. */
  legacyStateFile: string;
  maxRunMs: number;
  /** LEASE_SECONDS, in ms: how long the run lease lasts unrenewed (a run renews it every third of that). */
  leaseMs: number;
  /** Bearer token for manual triggers, resets and full run history; null = none configured. */
  adminToken: string | null;
  alerts: AlertSettings;
  /** Non-fatal remarks about the settings, carried into every run report. */
  warnings: string[];
}

export interface AlertSettings {
  /** SLACK_INCOMING_WEBHOOK_URL; null = no alerts are sent. A secret: the URL is the credential. */
  webhookUrl: string | null;
  /** SLACK_SEND_SUCCESS: a summary after every run that exported something. */
  sendSuccess: boolean;
  /** LAG_ALERT_MINUTES, in ms. */
  lagThresholdMs: number;
}

export interface LogFilter {
  minLevel: LogLevel | null;
  types: ReadonlySet<string> | null;
}

/** The Management API's maximum `take` in checkpoint mode. */
export const MAX_BATCH_SIZE = 100;
/** Bounds the duplicates a crash can cause, and a shipment's memory. */
export const MAX_PAGES_PER_SHIPMENT = 10;
export const DEFAULTS = {
  PAPERTRAIL_SYSTEM: 'auth0-logs',
  PAPERTRAIL_PROGRAM: 'auth0',
  BATCH_SIZE: MAX_BATCH_SIZE,
  /**
   * The most pages one shipment may gather while a backlog drains (adaptive: caught up, each page
   * ships alone). A crash re-ships at most one shipment: 10 pages, 1,000 logs at the default BATCH_SIZE.
   */
  PAGES_PER_SHIPMENT: 10,
  STORAGE_FILE: './data/state.db',
  /** Where versions that kept the state as JSON kept it by default. */
  LEGACY_STORAGE_FILE: './data/state.json',
  /** Standalone runs may take their time; the next run resumes anyway. */
  MAX_RUN_SECONDS_STANDALONE: 900,
  /** Webtask requests are cut off at about 30 s; leave room to answer. */
  MAX_RUN_SECONDS_WEBTASK: 20,
  LAG_ALERT_MINUTES: 60,
  /** A frozen or cut-off run is replaced this soon; renewing every 10 s costs one small write. */
  LEASE_SECONDS: 30,
} as const;

const LEVEL_NAMES: Readonly<Record<string, LogLevel>> = { debug: 0, info: 1, warning: 2, warn: 2, error: 3, critical: 4 };
// RFC 5424 HOSTNAME and APP-NAME are PRINTUSASCII (33..126); Papertrail cuts HOSTNAME at 120.
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const LOG_ID = /^[A-Za-z0-9]{1,128}$/;
/**
 * RFC 5424 SD-NAME characters (PRINTUSASCII except '=', SP, ']' and '"'),
 * less '@', which separates the token from the enterprise number in the SD-ID.
 * RFC 5424 caps an SD-NAME at 32 characters; Papertrail's tokens plus
 * "@41058" exceed that, and Papertrail's own sender (remote_syslog2) sends
 * them whole, as we do, so only a sanity bound applies here.
 */
const SD_TOKEN = /^[\x21-\x7e]+$/;
const SD_TOKEN_FORBIDDEN = /[=\]"@]/;
const TOKEN_LENGTH = { min: 8, max: 256 } as const;
/** SolarWinds collectors drop messages that carry no ingestion token. */
const TOKEN_COLLECTOR = /(^|\.)collector\.(.+\.)?solarwinds\.com$/i;

function isHostName(value: string): boolean {
  if (isIP(value) !== 0) return true;
  if (value.length > 253) return false;
  return value.split('.').every((label) => HOST_LABEL.test(label));
}

/** Parses a whole number with no sign, unit or fraction ("10", not "10.5", "1e1" or "10s"). */
function parseWhole(value: string): number | null {
  return /^\d{1,9}$/.test(value) ? Number(value) : null;
}

/**
 * A whole-number setting: empty gives `fallback`; a value outside `min`..`max`
 * (or not a whole number) calls `outOfRange`, which names the problem and its fix.
 */
function wholeInRange(raw: string, bounds: { min: number; max: number; fallback: number }, outOfRange: () => void): number {
  if (raw === '') return bounds.fallback;
  const parsed = parseWhole(raw);
  if (parsed === null || parsed < bounds.min || parsed > bounds.max) {
    outOfRange();
    return bounds.fallback;
  }
  return parsed;
}

export function loadConfig(env: Environment, runtime: Runtime = 'standalone'): Config {
  const problems: SettingProblem[] = [];
  const warnings: string[] = [];
  const get = (name: string): string => (env[name] ?? '').trim();
  const problem = (setting: string, text: string, fix: string): void => {
    problems.push({ setting, problem: text, fix });
  };
  const required = (name: string, fix: string): string => {
    const value = get(name);
    if (value === '') problem(name, 'is not set.', fix);
    return value;
  };

  // --- Auth0 ---
  const rawDomain = required(
    'AUTH0_DOMAIN',
    'set it to your tenant domain, e.g. "your-tenant.us.auth0.com" (no "https://").',
  );
  let domain = rawDomain.replace(/\/+$/, '');
  if (domain !== '') {
    if (/^https?:\/\//i.test(domain)) {
      problem('AUTH0_DOMAIN', `"${rawDomain}" includes a scheme.`, 'give the host only, e.g. "your-tenant.us.auth0.com"; requests always use https.');
      domain = '';
    } else {
      const match = /^([^:/\s]+)(?::(\d{1,5}))?$/.exec(domain);
      const port = match?.[2] === undefined ? null : Number(match[2]);
      if (!match || !isHostName(match[1] ?? '') || (port !== null && (port < 1 || port > 65535))) {
        problem('AUTH0_DOMAIN', `"${rawDomain}" is not a host name (optionally host:port).`, 'set it to your tenant domain, e.g. "your-tenant.us.auth0.com".');
      }
    }
  }
  const clientId = required('AUTH0_CLIENT_ID', 'set it to the Client ID of a machine-to-machine application granted the read:logs scope.');
  const clientSecret = required('AUTH0_CLIENT_SECRET', 'set it to the Client Secret of that application.');

  // --- Papertrail ---
  const host = required('PAPERTRAIL_HOST', 'copy the host shown under "Your systems & apps will log to" in Papertrail, e.g. "logs5.papertrailapp.com".');
  if (host !== '' && !isHostName(host)) {
    problem('PAPERTRAIL_HOST', `"${host}" is not a host name.`, 'give the host only, e.g. "logs5.papertrailapp.com" (no scheme, no port).');
  }
  const rawPort = required('PAPERTRAIL_PORT', 'copy the port shown next to the host in Papertrail, e.g. 12345.');
  const port = rawPort === '' ? null : parseWhole(rawPort);
  if (rawPort !== '' && (port === null || port < 1 || port > 65535)) {
    problem('PAPERTRAIL_PORT', `"${rawPort}" is not a port number.`, 'use a whole number from 1 to 65535.');
  }
  const system = get('PAPERTRAIL_SYSTEM') || DEFAULTS.PAPERTRAIL_SYSTEM;
  if (!PRINTABLE_ASCII.test(system) || system.length > 120) {
    problem('PAPERTRAIL_SYSTEM', `"${system}" contains spaces or other characters a syslog HOSTNAME cannot hold, or is longer than 120 characters.`, 'use up to 120 printable ASCII characters without spaces, e.g. "auth0-logs".');
  }
  const program = get('PAPERTRAIL_PROGRAM') || DEFAULTS.PAPERTRAIL_PROGRAM;
  if (!PRINTABLE_ASCII.test(program) || program.length > 48) {
    problem('PAPERTRAIL_PROGRAM', `"${program}" is not a valid syslog APP-NAME.`, 'use up to 48 printable ASCII characters without spaces, e.g. "auth0".');
  }

  // The token is never echoed in a problem: problems are printed before any redactor exists.
  const token = get('PAPERTRAIL_TOKEN') || null;
  if (token !== null) {
    if (/^\[|@41058\]?$/.test(token)) {
      problem('PAPERTRAIL_TOKEN', 'includes the brackets or the "@41058" of the structured-data element.', 'give the token alone, as Papertrail shows it (e.g. "012345-ABCDEFGHIJ_klmnopqrst"); the element around it is added for you.');
    } else if (!SD_TOKEN.test(token) || SD_TOKEN_FORBIDDEN.test(token)) {
      problem('PAPERTRAIL_TOKEN', 'contains spaces, non-ASCII characters or one of = ] " @, which a syslog structured-data name cannot hold.', 'copy the ingestion token again from the destination in Papertrail, without quotes or spaces.');
    } else if (token.length < TOKEN_LENGTH.min || token.length > TOKEN_LENGTH.max) {
      problem('PAPERTRAIL_TOKEN', `is ${token.length < TOKEN_LENGTH.min ? 'shorter' : 'longer'} than an ingestion token can be (${TOKEN_LENGTH.min} to ${TOKEN_LENGTH.max} characters).`, 'copy the whole ingestion token from the destination in Papertrail.');
    }
  } else if (TOKEN_COLLECTOR.test(host)) {
    problem('PAPERTRAIL_TOKEN', `is not set, and ${host} is a token destination, which drops messages without their token.`, 'set it to the ingestion token shown with the destination in Papertrail (Settings → Log Destinations).');
  }

  // --- Export ---
  const rawBatch = get('BATCH_SIZE');
  const batchSize = wholeInRange(rawBatch, { min: 1, max: MAX_BATCH_SIZE, fallback: DEFAULTS.BATCH_SIZE }, () =>
    problem('BATCH_SIZE', `"${rawBatch}" is out of range.`, `use a whole number from 1 to ${MAX_BATCH_SIZE} (Auth0 returns at most ${MAX_BATCH_SIZE} logs per request), or leave it empty for ${MAX_BATCH_SIZE}.`),
  );

  const rawPages = get('PAGES_PER_SHIPMENT');
  const pagesPerShipment = wholeInRange(rawPages, { min: 1, max: MAX_PAGES_PER_SHIPMENT, fallback: DEFAULTS.PAGES_PER_SHIPMENT }, () =>
    problem('PAGES_PER_SHIPMENT', `"${rawPages}" is out of range.`, `use a whole number from 1 to ${MAX_PAGES_PER_SHIPMENT} (a crash can re-ship up to that many pages), or leave it empty for ${DEFAULTS.PAGES_PER_SHIPMENT}.`),
  );

  const minLevel = parseLogLevel(get('LOG_LEVEL'), problem);
  const types = parseLogTypes(get('LOG_TYPES'), problem, warnings);

  let startFrom: string | null = get('START_FROM') || null;
  if (startFrom !== null && !LOG_ID.test(startFrom)) {
    problem('START_FROM', `"${startFrom}" is not a log id.`, 'copy the log_id of the event to start after (digits, e.g. "90020240501…"), or leave it empty.');
    startFrom = null;
  }

  const storageFile = get('STORAGE_FILE') || DEFAULTS.STORAGE_FILE;
  const legacyStateFile = get('STORAGE_FILE') || DEFAULTS.LEGACY_STORAGE_FILE;
  const stateUrl = get('STATE_URL') || null;
  if (stateUrl !== null && !isPostgresUrl(stateUrl)) {
    // The value itself is not repeated: it may hold a password.
    problem('STATE_URL', 'is not a PostgreSQL URL.', 'use postgres://user:password@host:5432/database (percent-encode special characters in the password), or leave it empty to keep the state in STORAGE_FILE.');
  }

  const defaultSeconds = runtime === 'webtask' ? DEFAULTS.MAX_RUN_SECONDS_WEBTASK : DEFAULTS.MAX_RUN_SECONDS_STANDALONE;
  const rawSeconds = get('MAX_RUN_SECONDS');
  const maxRunSeconds = wholeInRange(rawSeconds, { min: 5, max: 86_400, fallback: defaultSeconds }, () =>
    problem('MAX_RUN_SECONDS', `"${rawSeconds}" is out of range.`, `use a whole number of seconds from 5 to 86400, or leave it empty for ${defaultSeconds}.`),
  );

  const rawLease = runtime === 'webtask' ? '' : get('LEASE_SECONDS');
  const leaseSeconds = wholeInRange(rawLease, { min: 2, max: 3_600, fallback: DEFAULTS.LEASE_SECONDS }, () =>
    problem('LEASE_SECONDS', `"${rawLease}" is out of range.`, `use a whole number of seconds from 2 to 3600, or leave it empty for ${DEFAULTS.LEASE_SECONDS}.`),
  );

  const adminToken = get('ADMIN_TOKEN') || null;
  if (adminToken !== null && (adminToken.length < 16 || /\s/.test(adminToken))) {
    problem('ADMIN_TOKEN', 'is shorter than 16 characters or contains spaces.', 'use a long random value, e.g. the output of "openssl rand -hex 24", or leave it empty.');
  }

  const alerts = parseAlertSettings(get, problem);
  const message = parseMessageSettings(get, problem, warnings);

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    auth0: { domain, clientId, clientSecret },
    papertrail: { host, port: port ?? 0, system, program, token, message },
    batchSize,
    pagesPerShipment,
    filter: { minLevel, types },
    startFrom,
    storageFile,
    stateUrl,
    legacyStateFile,
    maxRunMs: maxRunSeconds * 1000,
    leaseMs: leaseSeconds * 1000,
    adminToken,
    alerts,
    warnings,
  };
}

function parseAlertSettings(get: (name: string) => string, problem: ProblemFn): AlertSettings {
  const rawUrl = get('SLACK_INCOMING_WEBHOOK_URL');
  let webhookUrl: string | null = null;
  if (rawUrl !== '' && rawUrl !== '-') {
    let url: URL | null = null;
    try {
      url = new URL(rawUrl);
    } catch {
      url = null;
    }
    // The URL is the credential, so the problem never repeats it.
    if (url === null || url.protocol !== 'https:' || url.hostname === '' || url.username !== '' || url.password !== '') {
      problem('SLACK_INCOMING_WEBHOOK_URL', 'is not an https URL.', 'paste the whole "Webhook URL" Slack shows for the incoming webhook, starting with "https://", or leave it empty for no alerts.');
    } else {
      webhookUrl = url.href;
    }
  }
  const rawSuccess = get('SLACK_SEND_SUCCESS').toLowerCase();
  if (rawSuccess !== '' && rawSuccess !== 'true' && rawSuccess !== 'false') {
    problem('SLACK_SEND_SUCCESS', `"${rawSuccess}" is neither true nor false.`, 'use "true" for a summary after every run that exported something, or "false" (the default).');
  }
  const rawLag = get('LAG_ALERT_MINUTES');
  const lagMinutes = wholeInRange(rawLag, { min: 1, max: 10_080, fallback: DEFAULTS.LAG_ALERT_MINUTES }, () =>
    problem('LAG_ALERT_MINUTES', `"${rawLag}" is out of range.`, `use a whole number of minutes from 1 to 10080, or leave it empty for ${DEFAULTS.LAG_ALERT_MINUTES}.`),
  );
  return { webhookUrl, sendSuccess: rawSuccess === 'true', lagThresholdMs: lagMinutes * 60_000 };
}

type ProblemFn = (setting: string, text: string, fix: string) => void;

/** The gallery's select submits "-" for its blank option. */
const listOf = (raw: string): string[] => raw.split(',').map((item) => item.trim()).filter((item) => item !== '' && item !== '-');
const MAX_OMIT_PATHS = 100;
const PII_HASH_KEY_MIN = 16;

function parseMessageSettings(get: (name: string) => string, problem: ProblemFn, warnings: string[]): MessageSettings {
  const rawFormat = get('MESSAGE_FORMAT').toLowerCase();
  let format: MessageFormat = 'json';
  if (rawFormat === 'summary') format = 'summary';
  else if (rawFormat !== '' && rawFormat !== '-' && rawFormat !== 'json') {
    problem('MESSAGE_FORMAT', `"${rawFormat}" is neither json nor summary.`, 'use "json" (the event as JSON, the default) or "summary" (a readable line, then the JSON).');
  }

  const omit: OmitPath[] = [];
  const rawOmit = listOf(get('OMIT_FIELDS'));
  const badPaths = rawOmit.filter((path) => path.length > 256 || path.split('.').some((part) => part === '' || /[\s"]/.test(part)));
  const protectedPaths = rawOmit.filter((path) => (NEVER_OMITTED as readonly string[]).includes(path.split('.')[0] ?? ''));
  if (badPaths.length > 0) {
    problem('OMIT_FIELDS', `${badPaths.map((p) => `"${p.slice(0, 80)}"`).join(', ')} ${badPaths.length === 1 ? 'is not a dotted path' : 'are not dotted paths'}.`, 'list paths separated by commas, each of field names joined by dots, e.g. "details.request.auth,location_info".');
  } else if (protectedPaths.length > 0) {
    problem('OMIT_FIELDS', `${protectedPaths.map((p) => `"${p}"`).join(', ')} would drop ${NEVER_OMITTED.join(', ')}, which every event keeps (its id, its type and its date).`, `remove ${protectedPaths.length === 1 ? 'it' : 'them'}; omit other fields only.`);
  } else if (rawOmit.length > MAX_OMIT_PATHS) {
    problem('OMIT_FIELDS', `lists ${rawOmit.length} paths.`, `list at most ${MAX_OMIT_PATHS}; omitting a parent drops everything under it.`);
  } else {
    for (const path of new Set(rawOmit)) omit.push(path.split('.'));
  }

  const rawFields = listOf(get('PII_FIELDS').toLowerCase());
  const unknownFields = rawFields.filter((name) => !(PII_FIELD_NAMES as readonly string[]).includes(name));
  if (unknownFields.length > 0) {
    problem('PII_FIELDS', `${unknownFields.map((n) => `"${n.slice(0, 40)}"`).join(', ')} ${unknownFields.length === 1 ? 'is not a field name' : 'are not field names'}.`, `list any of ${PII_FIELD_NAMES.join(', ')}, separated by commas, or leave it empty.`);
  }
  const rawMethod = get('PII_METHOD').toLowerCase();
  let method: PiiSettings['method'] = 'mask';
  if (rawMethod === 'hash') method = 'hash';
  else if (rawMethod !== '' && rawMethod !== '-' && rawMethod !== 'mask') {
    problem('PII_METHOD', `"${rawMethod}" is neither mask nor hash.`, 'use "mask" (the shape only, the default) or "hash" (a keyed pseudonym, needs PII_HASH_KEY).');
  }
  // The key is never echoed in a problem: problems are printed before any redactor exists.
  const key = get('PII_HASH_KEY') || null;
  if (method === 'hash' && key === null) {
    problem('PII_HASH_KEY', 'is not set, and PII_METHOD=hash needs it.', `set it to a long random secret of at least ${PII_HASH_KEY_MIN} characters (e.g. the output of "openssl rand -hex 24"), and keep it: a new key gives every user a new pseudonym. Or use PII_METHOD=mask.`);
  } else if (key !== null && (key.length < PII_HASH_KEY_MIN || /\s/.test(key))) {
    problem('PII_HASH_KEY', `is shorter than ${PII_HASH_KEY_MIN} characters or contains spaces.`, 'use a long random value, e.g. the output of "openssl rand -hex 24".');
  }
  if (rawFields.length === 0 && (rawMethod !== '' || key !== null)) {
    warnings.push('PII_METHOD or PII_HASH_KEY is set but PII_FIELDS is empty: personal data is sent as Auth0 gives it.');
  }
  const fields = new Set(rawFields.filter((name): name is PiiField => (PII_FIELD_NAMES as readonly string[]).includes(name)));
  const pii: PiiSettings | null = fields.size === 0 ? null : { fields, method, key };
  return { format, omit, pii };
}

function parseLogLevel(raw: string, problem: ProblemFn): LogLevel | null {
  // The gallery's select submits "-" for its blank option.
  if (raw === '' || raw === '-') return null;
  if (/^[0-4]$/.test(raw)) return Number(raw) as LogLevel;
  const named = LEVEL_NAMES[raw.toLowerCase()];
  if (named !== undefined) return named;
  problem('LOG_LEVEL', `"${raw}" is not a level.`, 'use one of 0-4 or debug, info, warning, error, critical (a single value), or leave it empty to export every level.');
  return null;
}

function parseLogTypes(raw: string, problem: ProblemFn, warnings: string[]): ReadonlySet<string> | null {
  const codes = raw
    .replace(/\s+/g, '')
    .split(',')
    .filter((code) => code !== '' && code !== '-');
  if (codes.length === 0) return null;
  const invalid = codes.filter((code) => !/^[a-z0-9_]{1,64}$/i.test(code));
  if (invalid.length > 0) {
    problem('LOG_TYPES', `${invalid.map((c) => `"${c}"`).join(', ')} ${invalid.length === 1 ? 'is not a log type code' : 'are not log type codes'}.`, 'list codes separated by commas, e.g. "f,fp,fu,limit_wc", or leave it empty.');
    return null;
  }
  const unknown = codes.filter((code) => lookupLogType(code) === undefined);
  if (unknown.length > 0) {
    warnings.push(`LOG_TYPES lists codes not in this version's table (kept as given): ${unknown.join(', ')}.`);
  }
  return new Set(codes);
}

/** The settings that are secret: their values never appear in any output. */
export function secretValues(config: Config): string[] {
  return [config.auth0.clientSecret, config.adminToken, config.papertrail.token, piiHashKeyOf(config)].filter((value): value is string => value !== null).concat(databasePasswords(config.stateUrl))
    .concat(config.alerts.webhookUrl === null ? [] : webhookSecrets(config.alerts.webhookUrl));
}

/** PII_HASH_KEY, kept in the settings only when PII_METHOD=hash uses it. */
function piiHashKeyOf(config: Config): string | null {
  return config.papertrail.message?.pii?.key ?? null;
}

function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** STATE_URL's password, as written and decoded, so that neither appears in any output. */
function databasePasswords(stateUrl: string | null): string[] {
  if (stateUrl === null) return [];
  try {
    const password = new URL(stateUrl).password;
    if (password === '') return [];
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {
      // Not percent-encoded validly: the raw form is all there is.
    }
    return [...new Set([password, decoded])];
  } catch {
    return [stateUrl];
  }
}

/**
 * A webhook URL's secret part is its path (Slack: /services/T…/B…/<token>), so
 * both the whole URL and the path are masked wherever they could appear.
 */
export function webhookSecrets(url: string): string[] {
  let path = '';
  try {
    const parsed = new URL(url);
    path = parsed.pathname + parsed.search;
  } catch {
    // Not a URL (a bad setting): mask the value as given.
  }
  return [url, ...(path.length >= 6 ? [path] : [])];
}
