/**
 * `auth0-logs-to-papertrail check` against the simulated tenant and a real
 * rsyslogd TLS receiver: all green, then one failure at a time. Each failure
 * is named with its fix, the exit code is 1, nothing is exported and no secret
 * is printed.
 */
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki } from '../support/certs';
import { killAllClis, runCli, type CliResult } from '../support/cli';
import { exportEnv } from '../support/export-env';
import { startFakeTenant, type FakeTenant, type FakeTenantOptions } from '../support/fake-tenant';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';

const pki = createTestPki();
const PAPERTRAIL_TOKEN = '385612-CHECKTOKEN_asdfghjklqwerty';
const tenants: FakeTenant[] = [];
let receiver: RsyslogReceiver;

async function tenantWith(options: FakeTenantOptions = {}): Promise<FakeTenant> {
  const tenant = await startFakeTenant({ count: 300, start: new Date(Date.now() - 2 * 24 * 3600 * 1000), cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile, ...options });
  tenants.push(tenant);
  return tenant;
}

/** The checklist's line for an item: "[ok]   name: …" or "[FAIL] name: …". */
function line(result: CliResult, name: string): string {
  return result.stdout.split('\n').find((l) => /^\[(ok|FAIL|skip)\]\s+/.test(l) && l.replace(/^\[\w+\]\s+/, '').startsWith(`${name}:`)) ?? `(no line for ${name})`;
}

function statuses(result: CliResult): Record<string, string> {
  return Object.fromEntries(result.stdout.split('\n').flatMap((l) => {
    const m = /^\[(ok|FAIL|skip)\]\s+(.+?): /.exec(l);
    return m ? [[m[2]!, m[1]!]] : [];
  }));
}

/** What the check must never do: print a secret, or export anything. */
async function expectNothingLeakedOrExported(result: CliResult, tenant: FakeTenant, secrets: readonly string[]): Promise<void> {
  for (const secret of secrets) expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
  expect(tenant.stats().logsRequests).toBeLessThanOrEqual(1);
  expect((await receiver.messages()).filter((m) => !m.raw.includes('auth0-logs-to-papertrail check'))).toEqual([]);
}

beforeAll(async () => {
  receiver = await startRsyslogReceiver({ cert: pki.server });
});
afterEach(async () => {
  killAllClis();
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
});
afterAll(async () => {
  await stopAllReceivers();
});

describe('auth0-logs-to-papertrail check', () => {
  it('passes every check against a working tenant, receiver and store, and with --send-test the receiver gets one test message', async () => {
    const tenant = await tenantWith();
    const before = (await receiver.messages()).length;
    const env = exportEnv(tenant, receiver, { PAPERTRAIL_TOKEN });
    const result = await runCli(['check', '--send-test'], env);
    expect(result.code).toBe(0);
    expect(statuses(result)).toEqual({
      'settings valid': 'ok',
      'Auth0 reachable': 'ok',
      'Auth0 credentials accepted': 'ok',
      'read:logs granted': 'ok',
      'Papertrail host resolves': 'ok',
      'Papertrail TLS verified': 'ok',
      'test message confirmed': 'ok',
      'state store opens and is writable': 'ok',
    });
    expect(result.stdout).toMatch(/All checks passed\.\n$/);
    const received = (await receiver.messages()).slice(before);
    expect(received).toHaveLength(1);
    expect(received[0]!.raw).toContain('auth0-logs-to-papertrail check: test message');
    expect(received[0]!.raw).toContain(`[${PAPERTRAIL_TOKEN}@41058]`);
    expect(tenant.stats().logsRequests).toBe(1);
    for (const secret of [tenant.clientSecret, PAPERTRAIL_TOKEN]) expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
  });

  it('without --send-test sends nothing and says how to send one', async () => {
    const tenant = await tenantWith();
    const before = (await receiver.messages()).length;
    const result = await runCli(['check'], exportEnv(tenant, receiver));
    expect(result.code).toBe(0);
    expect(line(result, 'test message confirmed')).toMatch(/^\[skip\].*--send-test/);
    expect((await receiver.messages()).length).toBe(before);
  });

  it('names a wrong client secret with its fix', async () => {
    const tenant = await tenantWith();
    const wrong = 'a-wrong-client-secret-0123456789';
    const result = await runCli(['check', '--send-test'], exportEnv(tenant, receiver, { AUTH0_CLIENT_SECRET: wrong, PAPERTRAIL_TOKEN }));
    expect(result.code).toBe(1);
    expect(line(result, 'Auth0 reachable')).toMatch(/^\[ok\]/);
    expect(line(result, 'Auth0 credentials accepted')).toMatch(/^\[FAIL\].*rejected the client credentials/);
    expect(result.stdout).toMatch(/\[FAIL\] Auth0 credentials accepted:.*\n\s+To fix: copy the Client ID and Client Secret/);
    expect(line(result, 'read:logs granted')).toMatch(/^\[skip\]/);
    await expectNothingLeakedOrExported(result, tenant, [wrong, tenant.clientSecret, PAPERTRAIL_TOKEN]);
  });

  it('names a missing read:logs scope with its fix', async () => {
    const tenant = await tenantWith({ fault: 'forbidden' });
    const result = await runCli(['check'], exportEnv(tenant, receiver, { PAPERTRAIL_TOKEN }));
    expect(result.code).toBe(1);
    expect(line(result, 'Auth0 credentials accepted')).toMatch(/^\[ok\]/);
    expect(line(result, 'read:logs granted')).toMatch(/^\[FAIL\].*403/);
    expect(result.stdout).toMatch(/\[FAIL\] read:logs granted:.*\n\s+To fix: .*grant the read:logs scope/);
    expect(line(result, 'Papertrail TLS verified')).toMatch(/^\[ok\]/);
    await expectNothingLeakedOrExported(result, tenant, [tenant.clientSecret, PAPERTRAIL_TOKEN]);
  });

  it('names a Papertrail certificate this machine does not trust, sending nothing', async () => {
    const tenant = await tenantWith();
    const rogue = await startRsyslogReceiver({ cert: pki.untrusted });
    const result = await runCli(['check', '--send-test'], exportEnv(tenant, rogue, { PAPERTRAIL_TOKEN }));
    expect(result.code).toBe(1);
    expect(line(result, 'Papertrail TLS verified')).toMatch(/^\[FAIL\].*failed verification/);
    expect(result.stdout).toMatch(/\[FAIL\] Papertrail TLS verified:.*\n\s+To fix: PAPERTRAIL_HOST must be/);
    expect(line(result, 'test message confirmed')).toMatch(/^\[skip\]/);
    expect(await rogue.messages()).toEqual([]);
    await expectNothingLeakedOrExported(result, tenant, [tenant.clientSecret, PAPERTRAIL_TOKEN]);
  });

  it('names a Papertrail destination nothing answers at', async () => {
    const tenant = await tenantWith();
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const result = await runCli(['check', '--send-test'], exportEnv(tenant, { port }, { PAPERTRAIL_TOKEN }));
    expect(result.code).toBe(1);
    expect(line(result, 'Papertrail TLS verified')).toMatch(/^\[FAIL\].*ECONNREFUSED/);
    expect(result.stdout).toMatch(/\[FAIL\] Papertrail TLS verified:.*\n\s+To fix: check PAPERTRAIL_PORT/);
    await expectNothingLeakedOrExported(result, tenant, [tenant.clientSecret, PAPERTRAIL_TOKEN]);
  });

  it('names a state directory that cannot be written', async () => {
    const tenant = await tenantWith();
    // A regular file where the state directory should be: even root cannot create the database under it.
    const blocker = join(mkdtempSync(join(tmpdir(), 'a0pt-check-')), 'not-a-directory');
    closeSync(openSync(blocker, 'w'));
    const result = await runCli(['check'], exportEnv(tenant, receiver, { STORAGE_FILE: join(blocker, 'state.db'), PAPERTRAIL_TOKEN }));
    expect(result.code).toBe(1);
    expect(line(result, 'state store opens and is writable')).toMatch(/^\[FAIL\].*(ENOTDIR|EEXIST)/);
    expect(result.stdout).toMatch(/\[FAIL\] state store opens and is writable:.*\n\s+To fix: STORAGE_FILE .* must be a file this user may create and write/);
    expect(line(result, 'Papertrail TLS verified')).toMatch(/^\[ok\]/);
    await expectNothingLeakedOrExported(result, tenant, [tenant.clientSecret, PAPERTRAIL_TOKEN]);
  });

  it('with --serve, names a port already taken and a LOG_STREAM_TOKEN too weak to use', async () => {
    const tenant = await tenantWith();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as { port: number }).port);
      const inUse = await runCli(['check', '--serve'], exportEnv(tenant, receiver, { HOST: '127.0.0.1', PORT: port, PAPERTRAIL_TOKEN }));
      expect(inUse.code).toBe(1);
      expect(line(inUse, 'service port free')).toMatch(new RegExp(`^\\[FAIL\\] service port free: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
      expect(inUse.stdout).toMatch(/\[FAIL\] service port free:.*\n\s+To fix: stop what listens there/);
      await expectNothingLeakedOrExported(inUse, tenant, [tenant.clientSecret, PAPERTRAIL_TOKEN]);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
    const weak = 'weak-token';
    const result = await runCli(['check', '--serve'], exportEnv(tenant, receiver, { LOG_STREAM_TOKEN: weak, PAPERTRAIL_TOKEN }));
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/LOG_STREAM_TOKEN: is shorter than 16 characters.*To fix: use a long random value/);
    await expectNothingLeakedOrExported(result, tenant, [weak, tenant.clientSecret, PAPERTRAIL_TOKEN]);
  });

  it('lists invalid settings with their fixes, checks nothing else and exits 2, masking a secret it was given', async () => {
    const tenant = await tenantWith();
    const result = await runCli(['check'], exportEnv(tenant, receiver, { PAPERTRAIL_PORT: 'not-a-port', PAPERTRAIL_TOKEN }));
    expect(result.code).toBe(2);
    expect(line(result, 'settings valid')).toMatch(/^\[FAIL\]/);
    expect(result.stdout).toMatch(/PAPERTRAIL_PORT: .*To fix:/);
    expect(tenant.stats().tokenRequests).toBe(0);
    await expectNothingLeakedOrExported(result, tenant, [tenant.clientSecret, PAPERTRAIL_TOKEN]);
  });
});
