/**
 * The service's log-stream settings: the endpoint is on only with a token;
 * the poller stays on as a safety net unless LOG_STREAM_ONLY says otherwise;
 * and because Auth0 refuses self-signed certificates, `serve` can terminate
 * TLS itself with a certificate a public CA issued.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Environment } from '../config';
import type { SettingProblem } from '../errors';

export interface LogStreamSettings {
  /** null: POST /log-stream is off. */
  token: string | null;
  /** No poller: push only, without the gap guarantee. */
  streamOnly: boolean;
  maxSilenceMs: number;
  /** The stream in the tenant (LOG_STREAM_ID); null: found by name or by the token it sends. */
  id: string | null;
  /** How often `serve` reads the stream's status from Auth0; 0: never. */
  statusIntervalMs: number;
  /** Set a paused or suspended stream active again once deliveries to Papertrail are confirmed. */
  autoResume: boolean;
}

export interface ServiceTls {
  cert: Buffer;
  key: Buffer;
}

export const LOG_STREAM_DEFAULTS = { MAX_SILENCE_SECONDS: 900, STATUS_SECONDS: 300 } as const;

export function loadLogStreamSettings(env: Environment, problems: SettingProblem[]): LogStreamSettings {
  const get = (name: string): string => (env[name] ?? '').trim();
  const token = get('LOG_STREAM_TOKEN') || null;
  if (token !== null && (token.length < 16 || /\s/.test(token))) {
    problems.push({
      setting: 'LOG_STREAM_TOKEN',
      problem: 'is shorter than 16 characters or contains spaces.',
      fix: 'use a long random value, e.g. the output of "openssl rand -hex 24", and enter the same value (or "Bearer " and it) as the stream\'s Authorization Token in Auth0.',
    });
  }
  const rawOnly = get('LOG_STREAM_ONLY').toLowerCase();
  let streamOnly = false;
  if (rawOnly === 'true' || rawOnly === '1' || rawOnly === 'yes') streamOnly = true;
  else if (rawOnly !== '' && rawOnly !== 'false' && rawOnly !== '0' && rawOnly !== 'no') {
    problems.push({ setting: 'LOG_STREAM_ONLY', problem: `"${rawOnly}" is not true or false.`, fix: 'use true (no poller) or false (the default: the poller fills every gap).' });
  }
  if (streamOnly && token === null) {
    problems.push({ setting: 'LOG_STREAM_ONLY', problem: 'is true but LOG_STREAM_TOKEN is not set, so nothing would export.', fix: 'set LOG_STREAM_TOKEN, or set LOG_STREAM_ONLY to false.' });
  }
  const rawSilence = get('LOG_STREAM_MAX_SILENCE_SECONDS');
  let maxSilenceSeconds: number = LOG_STREAM_DEFAULTS.MAX_SILENCE_SECONDS;
  if (rawSilence !== '') {
    if (/^\d{1,6}$/.test(rawSilence) && Number(rawSilence) >= 10) maxSilenceSeconds = Number(rawSilence);
    else problems.push({ setting: 'LOG_STREAM_MAX_SILENCE_SECONDS', problem: `"${rawSilence}" is out of range.`, fix: `use a whole number of seconds from 10 to 999999, or leave it empty for ${LOG_STREAM_DEFAULTS.MAX_SILENCE_SECONDS}.` });
  }
  const id = get('LOG_STREAM_ID') || null;
  if (id !== null && !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    problems.push({ setting: 'LOG_STREAM_ID', problem: `"${id}" is not a log stream id.`, fix: 'copy the id (e.g. lst_0000000000012345) that "stream setup" or "stream status" printed, or leave it empty to find the stream by name.' });
  }
  const rawStatus = get('LOG_STREAM_STATUS_SECONDS');
  let statusSeconds: number = LOG_STREAM_DEFAULTS.STATUS_SECONDS;
  if (rawStatus !== '') {
    if (/^\d{1,5}$/.test(rawStatus) && Number(rawStatus) <= 86_400) statusSeconds = Number(rawStatus);
    else problems.push({ setting: 'LOG_STREAM_STATUS_SECONDS', problem: `"${rawStatus}" is out of range.`, fix: `use a whole number of seconds from 1 to 86400 (0 never reads the status), or leave it empty for ${LOG_STREAM_DEFAULTS.STATUS_SECONDS}.` });
  }
  const rawResume = get('LOG_STREAM_AUTO_RESUME').toLowerCase();
  let autoResume = false;
  if (rawResume === 'true' || rawResume === '1' || rawResume === 'yes') autoResume = true;
  else if (rawResume !== '' && rawResume !== 'false' && rawResume !== '0' && rawResume !== 'no') {
    problems.push({ setting: 'LOG_STREAM_AUTO_RESUME', problem: `"${rawResume}" is not true or false.`, fix: 'use true (resume a paused or suspended stream once Papertrail confirms deliveries again; needs update:log_streams) or false (the default: alert only).' });
  }
  if (autoResume && (token === null || statusSeconds === 0)) {
    problems.push({ setting: 'LOG_STREAM_AUTO_RESUME', problem: 'is true but the stream\'s status is never read (LOG_STREAM_TOKEN is not set, or LOG_STREAM_STATUS_SECONDS is 0).', fix: 'set LOG_STREAM_TOKEN and leave LOG_STREAM_STATUS_SECONDS at a number of seconds, or set LOG_STREAM_AUTO_RESUME to false.' });
  }
  return { token, streamOnly, maxSilenceMs: maxSilenceSeconds * 1000, id, statusIntervalMs: statusSeconds * 1000, autoResume };
}

/** TLS_CERT_FILE and TLS_KEY_FILE: both or neither; read and checked now, so a bad pair fails at start. */
export function loadServiceTls(env: Environment, problems: SettingProblem[]): ServiceTls | null {
  const certFile = (env['TLS_CERT_FILE'] ?? '').trim();
  const keyFile = (env['TLS_KEY_FILE'] ?? '').trim();
  if (certFile === '' && keyFile === '') return null;
  if (certFile === '' || keyFile === '') {
    problems.push({ setting: certFile === '' ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE', problem: 'is not set while the other TLS file is.', fix: 'set both TLS_CERT_FILE (the certificate chain, PEM) and TLS_KEY_FILE (its private key, PEM), or neither.' });
    return null;
  }
  const read = (setting: string, file: string): Buffer | null => {
    try {
      return readFileSync(file);
    } catch (error) {
      problems.push({ setting, problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, fix: 'give the path of a readable PEM file.' });
      return null;
    }
  };
  const cert = read('TLS_CERT_FILE', certFile);
  const key = read('TLS_KEY_FILE', keyFile);
  if (!cert || !key) return null;
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    // OpenSSL's reason (e.g. "key values mismatch"), never the file's content.
    problems.push({ setting: 'TLS_CERT_FILE', problem: `and TLS_KEY_FILE do not make a certificate and key pair (${(error as Error).message}).`, fix: 'give the PEM certificate chain and the private key that belongs to it.' });
    return null;
  }
  return { cert, key };
}
