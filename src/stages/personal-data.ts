/**
 * The personal-data stage: the values PII_FIELDS names are masked or replaced
 * by a keyed pseudonym before an event is formatted, on the poller and the
 * log-stream path alike (both format through `formatLog`), after filtering.
 *
 * Which properties each name covers (at the top level and at any depth inside
 * the event, `details` included) is the table `COVERED_PROPERTIES`, plus:
 *   - `name` inside an object held under a `user` key (the Management API's
 *     `details.request.auth.user`) is a person's full name: `first_name` or
 *     `last_name` covers it;
 *   - `to` (where Auth0 puts the recipient of an email or SMS) is covered by
 *     `email` when it holds an "@", by `phone` otherwise;
 *   - with `email`, an address embedded in any other text (the `user_id` of an
 *     enterprise connection, a description) is replaced where it stands;
 *   - a covered value that also appears inside another text of the same event
 *     is replaced there too, so no raw value survives elsewhere in the event.
 * `log_id`, `_id`, `type` and `date` are never changed.
 *
 * A value Auth0 already masked (a log stream with its own `pii_config`: runs of
 * `*`) is passed untouched by both methods: masking it again changes nothing,
 * and hashing it would give every masked user the same pseudonym.
 *
 * hash: the first 16 hex digits (64 bits) of HMAC-SHA-256 over the value's
 * UTF-8 bytes, keyed with PII_HASH_KEY's UTF-8 bytes. Keyed, so a list of
 * candidate addresses cannot be hashed to reverse it (Auth0's own xxhash can).
 * Numbers are hashed as their JSON text.
 */
import { createHmac, createSecretKey } from 'node:crypto';
import type { Auth0Log } from '../auth0/auth0-log';

export const PII_FIELD_NAMES = ['email', 'username', 'first_name', 'last_name', 'phone', 'address', 'ip', 'user_agent'] as const;
export type PiiField = (typeof PII_FIELD_NAMES)[number];
export type PiiMethod = 'mask' | 'hash';

export interface PiiSettings {
  fields: ReadonlySet<PiiField>;
  method: PiiMethod;
  /** PII_HASH_KEY (a secret); required for `hash`, unused by `mask`. */
  key: string | null;
}

/** Property names each PII_FIELDS name covers, wherever they occur in the event. */
export const COVERED_PROPERTIES: Readonly<Record<PiiField, readonly string[]>> = {
  email: ['email', 'email_address', 'emailAddress', 'new_email'],
  username: ['user_name', 'username', 'userName', 'nickname'],
  first_name: ['first_name', 'given_name', 'firstName', 'givenName'],
  last_name: ['last_name', 'family_name', 'lastName', 'familyName'],
  phone: ['phone', 'phone_number', 'phoneNumber'],
  address: ['address'],
  ip: ['ip', 'client_ip', 'ip_address', 'ipAddress'],
  user_agent: ['user_agent', 'userAgent'],
};

/** Never changed: they identify the event and decide its header. */
const UNTOUCHED_TOP_LEVEL = new Set(['log_id', '_id', 'type', 'date']);
/** A structure nested deeper than this is not searched but replaced, so nothing in it can leak. */
const MAX_DEPTH = 64;
export const TOO_DEEP_MARK = '[nested too deeply to check for personal data]';
/** Shorter covered values are not searched for inside other texts: they would match ordinary words. */
const MIN_EMBEDDED_CHARS = 4;
export const PSEUDONYM_HEX_DIGITS = 16;
/** Bounds the pseudonym cache: users and addresses repeat, so most values are hashed once. */
const CACHE_LIMIT = 50_000;
/** Longer values are hashed every time: a hostile tenant's huge distinct values must not fill memory. */
const CACHED_VALUE_MAX_CHARS = 320;

/** Auth0's own masking (and ours) writes runs of asterisks. */
const ALREADY_MASKED = /\*\*/;

type Transform = (field: PiiField, value: string) => string;

export function createPseudonymizer(key: string): (value: string) => string {
  const cache = new Map<string, string>();
  // Made once: a string key would be converted again for every value.
  const secret = createSecretKey(Buffer.from(key, 'utf8'));
  return (value) => {
    let pseudonym = cache.get(value);
    if (pseudonym === undefined) {
      pseudonym = createHmac('sha256', secret).update(value, 'utf8').digest('hex').slice(0, PSEUDONYM_HEX_DIGITS);
      if (value.length <= CACHED_VALUE_MAX_CHARS) {
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(value, pseudonym);
      }
    }
    return pseudonym;
  };
}

function firstChar(value: string): string {
  const code = value.codePointAt(0);
  return code === undefined ? '' : String.fromCodePoint(code);
}

/** `jane@example.com` → `j***@e***.com`: the shape, and nothing a reader could recover. */
export function maskEmail(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return maskText(value);
  const domain = value.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 && /^[A-Za-z]{2,24}$/.test(domain.slice(dot + 1)) ? domain.slice(dot) : '';
  return `${firstChar(value)}***@${firstChar(domain)}***${tld}`;
}

/** `203.0.113.7` → `203.***.***.***`, `2001:db8::1` → `2001:***`. */
export function maskIp(value: string): string {
  const v4 = /^(\d{1,3})\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.exec(value);
  if (v4) return `${v4[1]}.***.***.***`;
  const v6 = /^([0-9A-Fa-f]{1,4}):[0-9A-Fa-f:.]*$/.exec(value);
  if (v6) return `${v6[1]}:***`;
  return maskText(value);
}

/** Any other text: its first character and a fixed run of asterisks (the length is not kept either). */
export function maskText(value: string): string {
  return value === '' ? '' : `${firstChar(value)}***`;
}

function maskOf(field: PiiField, value: string): string {
  if (field === 'email' || (field === 'username' && value.includes('@'))) return maskEmail(value);
  if (field === 'ip') return maskIp(value);
  return maskText(value);
}

function transformFor(settings: PiiSettings): Transform {
  if (settings.method === 'hash') {
    if (settings.key === null || settings.key === '') throw new Error('PII_METHOD=hash needs PII_HASH_KEY');
    const pseudonym = createPseudonymizer(settings.key);
    return (_field, value) => pseudonym(value);
  }
  return maskOf;
}

/** The field a property is covered by, given its name and the key of the object holding it. */
function fieldOf(key: string, parentKey: string | null, value: unknown, byProperty: ReadonlyMap<string, PiiField>, fields: ReadonlySet<PiiField>): PiiField | undefined {
  const direct = byProperty.get(key);
  if (direct !== undefined) return direct;
  if (key === 'name' && parentKey === 'user') {
    if (fields.has('first_name')) return 'first_name';
    if (fields.has('last_name')) return 'last_name';
    return undefined;
  }
  if (key === 'to' && typeof value === 'string') {
    const field: PiiField = value.includes('@') ? 'email' : 'phone';
    return fields.has(field) ? field : undefined;
  }
  return undefined;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // JSON.parse makes "__proto__" an own field; plain assignment would set the prototype instead.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Copy-on-write map over an object or array: `visit` returns the new value of
 * each member; the container is copied only when one changed.
 */
function mapMembers(value: object, visit: (key: string, member: unknown) => unknown): object {
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const member: unknown = value[i];
      const next = visit(String(i), member);
      if (next !== member) {
        copy ??= value.slice();
        copy[i] = next;
      }
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | null = null;
  const record = value as Record<string, unknown>;
  // for…in rather than Object.entries: no array per object, and events hold many small objects.
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const member = record[key];
    const next = visit(key, member);
    if (next !== member) {
      if (copy === null) {
        copy = {};
        for (const k in record) if (Object.hasOwn(record, k)) setOwn(copy, k, record[k]);
      }
      setOwn(copy, key, next);
    }
  }
  return copy ?? value;
}

/** Finds email addresses in text without a regular expression (no backtracking on hostile input). */
const LOCAL_CHAR = /[A-Za-z0-9._%+\-]/;
const DOMAIN_CHAR = /[A-Za-z0-9\-.]/;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;

export function replaceEmbeddedEmails(text: string, replace: (email: string) => string): string {
  let at = text.indexOf('@');
  if (at < 0) return text;
  let out = '';
  let copied = 0;
  while (at >= 0) {
    let start = at;
    while (start > copied && at - start < MAX_LOCAL && LOCAL_CHAR.test(text[start - 1] as string)) start--;
    let end = at + 1;
    while (end < text.length && end - at <= MAX_DOMAIN && DOMAIN_CHAR.test(text[end] as string)) end++;
    while (end > at + 1 && text[end - 1] === '.') end--; // a sentence's full stop is not part of the address
    const domain = text.slice(at + 1, end);
    if (start < at && domain.includes('.') && !domain.startsWith('.')) {
      out += text.slice(copied, start) + replace(text.slice(start, end));
      copied = end;
      at = text.indexOf('@', end);
    } else {
      at = text.indexOf('@', at + 1);
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** What one event's pass found and replaced: searched for in its other texts. */
interface Replaced {
  raw: string;
  replacement: string;
}

export type PersonalDataProtector = (log: Auth0Log) => Auth0Log;

/** A function that returns the event with the covered values masked or hashed; the event given is never changed. */
export function protectPersonalData(settings: PiiSettings): PersonalDataProtector {
  const transform = transformFor(settings);
  const byProperty = new Map<string, PiiField>();
  for (const field of settings.fields) for (const property of COVERED_PROPERTIES[field]) byProperty.set(property, field);
  const withEmail = settings.fields.has('email');

  const protectString = (field: PiiField, value: string, found: Replaced[]): string => {
    if (value === '' || ALREADY_MASKED.test(value)) return value;
    const replacement = transform(field, value);
    if (value.length >= MIN_EMBEDDED_CHARS) found.push({ raw: value, replacement });
    return replacement;
  };

  /** Every string inside a covered value is replaced, whatever its shape (an address object, a list of emails). */
  const protectCovered = (field: PiiField, value: unknown, found: Replaced[], depth: number): unknown => {
    if (typeof value === 'string') return protectString(field, value, found);
    if (typeof value === 'number' || typeof value === 'bigint') return protectString(field, String(value), found);
    if (value === null || typeof value !== 'object') return value;
    if (depth > MAX_DEPTH) return TOO_DEEP_MARK;
    return mapMembers(value, (_key, member) => protectCovered(field, member, found, depth + 1));
  };

  /** Replaces the covered properties; every other text is noted in `texts`, to be searched once `found` is complete. */
  const coverProperties = (value: unknown, parentKey: string | null, found: Replaced[], texts: string[], depth: number): unknown => {
    if (typeof value === 'string') {
      texts.push(value);
      return value;
    }
    if (value === null || typeof value !== 'object') return value;
    if (depth > MAX_DEPTH) return TOO_DEEP_MARK;
    if (Array.isArray(value)) return mapMembers(value, (_key, member) => coverProperties(member, parentKey, found, texts, depth + 1));
    // Objects are most of an event: a plain loop, without a callback per member.
    const record = value as Record<string, unknown>;
    let copy: Record<string, unknown> | null = null;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const member = record[key];
      let next: unknown = member;
      if (depth === 0 && UNTOUCHED_TOP_LEVEL.has(key)) continue;
      const field = fieldOf(key, parentKey, member, byProperty, settings.fields);
      if (field !== undefined) next = protectCovered(field, member, found, depth + 1);
      else if (typeof member === 'string') texts.push(member);
      else if (member !== null && typeof member === 'object') next = coverProperties(member, key, found, texts, depth + 1);
      if (next !== member) {
        // Spread defines own properties, so a "__proto__" field is copied as a field.
        copy ??= { ...record };
        setOwn(copy, key, next);
      }
    }
    return copy ?? record;
  };

  const scrubText = (text: string, found: readonly Replaced[]): string => {
    let out = text;
    for (const { raw, replacement } of found) if (out.includes(raw)) out = out.split(raw).join(replacement);
    return withEmail ? replaceEmbeddedEmails(out, (email) => (ALREADY_MASKED.test(email) ? email : transform('email', email))) : out;
  };

  const scrubTexts = (value: unknown, found: readonly Replaced[], depth: number): unknown => {
    if (typeof value === 'string') return scrubText(value, found);
    if (value === null || typeof value !== 'object') return value;
    if (depth > MAX_DEPTH) return TOO_DEEP_MARK;
    return mapMembers(value, (key, member) => (depth === 0 && UNTOUCHED_TOP_LEVEL.has(key) ? member : scrubTexts(member, found, depth + 1)));
  };

  /** Whether any other text holds a covered value or (with `email`) an "@": most events need no second pass. */
  const needsScrub = (texts: readonly string[], found: readonly Replaced[]): boolean => {
    for (const text of texts) {
      if (withEmail && text.includes('@')) return true;
      for (const { raw } of found) if (text.length >= raw.length && text.includes(raw)) return true;
    }
    return false;
  };

  return (log) => {
    const found: Replaced[] = [];
    const texts: string[] = [];
    const covered = coverProperties(log, null, found, texts, 0) as Auth0Log;
    if (!needsScrub(texts, found)) return covered;
    // Longest first, so that a value containing another is replaced whole.
    found.sort((a, b) => b.raw.length - a.raw.length);
    return scrubTexts(covered, found, 0) as Auth0Log;
  };
}
