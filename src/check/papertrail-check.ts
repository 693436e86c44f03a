/**
 * Papertrail: the host resolves, TLS verifies (a connection opened and closed,
 * nothing sent), and with --send-test a test message is confirmed by the
 * receiver the way every page is (see papertrail/tls-syslog-sink.ts).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Config } from '../config';
import { toErrorRecord } from '../errors';
import { createSink } from '../runtime/compose';
import { formatLog } from '../stages/format-log';
import { isCertificateFailure } from '../tls-trust';
import { failed, ok, skipped, type CheckItem } from './checklist';

const RESOLVES = 'Papertrail host resolves';
const TLS_VERIFIED = 'Papertrail TLS verified';
const TEST_MESSAGE = 'test message confirmed';
const TIMEOUT_MS = 10_000;

function connect(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), rejectUnauthorized: true, timeout: TIMEOUT_MS });
    socket.once('secureConnect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(Object.assign(new Error(`no TLS handshake within ${TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }));
    });
    socket.once('error', reject);
  });
}

export async function checkPapertrail(config: Config, sendTest: boolean): Promise<CheckItem[]> {
  const { host, port } = config.papertrail;
  const where = `${host}:${port}`;
  if (isIP(host) !== 0) {
    // An address needs no lookup (a receiver of your own; Papertrail's hosts are names).
  } else {
    try {
      const addresses = await lookup(host, { all: true });
      if (addresses.length === 0) throw new Error('no address');
    } catch (error) {
      return [
        failed(RESOLVES, `${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'copy the host exactly as Papertrail shows it (Settings → Log Destinations) into PAPERTRAIL_HOST, and check this machine\'s DNS.'),
        skipped(TLS_VERIFIED, 'not checked: the host does not resolve'),
        skipped(TEST_MESSAGE, 'not sent: the host does not resolve'),
      ];
    }
  }
  const items = [ok(RESOLVES, isIP(host) !== 0 ? `${host} is an address` : `${host} resolves`)];
  try {
    await connect(host, port);
    items.push(ok(TLS_VERIFIED, `${where} presented a certificate trusted for ${host}`));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const fix = isCertificateFailure(code)
      ? 'PAPERTRAIL_HOST must be the destination\'s own host name, not an address or a proxy; a receiver of your own needs a certificate for that name from a CA this machine trusts (add yours with NODE_EXTRA_CA_CERTS).'
      : 'check PAPERTRAIL_PORT (the port shown next to the host in Papertrail) and that this machine may open outgoing TCP connections to it.';
    const what = isCertificateFailure(code) ? `the certificate of ${where} failed verification (${code})` : `no TLS connection to ${where} (${code || (error as Error).message})`;
    items.push(failed(TLS_VERIFIED, what, fix), skipped(TEST_MESSAGE, 'not sent: no verified connection'));
    return items;
  }
  if (!sendTest) {
    items.push(skipped(TEST_MESSAGE, 'not sent (add --send-test to send one)'));
    return items;
  }
  const line = formatLog({ log_id: `check-${Date.now()}`, date: new Date().toISOString(), type: 'check', description: 'auth0-logs-to-papertrail check: test message' }, config.papertrail).line;
  const sink = createSink(config);
  try {
    await sink.send([line]);
    items.push(ok(TEST_MESSAGE, `${where} confirmed a test message (MSGID "check"): search Papertrail for "auth0-logs-to-papertrail check"`));
  } catch (error) {
    items.push(failed(TEST_MESSAGE, toErrorRecord(error).message, 'the receiver accepted the connection but did not confirm: check PAPERTRAIL_PORT and, for a token destination, PAPERTRAIL_TOKEN.'));
  } finally {
    await sink.close();
  }
  return items;
}
