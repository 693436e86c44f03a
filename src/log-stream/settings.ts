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
}

export interface ServiceTls {
  cert: Buffer;
  key: Buffer;
}

export const LOG_STREAM_DEFAULTS = { MAX_SILENCE_SECONDS: 900 } as const;

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
  return { token, streamOnly, maxSilenceMs: maxSilenceSeconds * 1000 };
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
