/** Settings for a CLI run against a simulated tenant and a local receiver. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeTenant } from './fake-tenant';

export function exportEnv(tenant: FakeTenant, receiver: { port: number }, extra: Record<string, string> = {}): Record<string, string> & { STORAGE_FILE: string } {
  const dir = mkdtempSync(join(tmpdir(), 'a0pt-state-'));
  // Trust the test CA for both Auth0 (HTTPS) and Papertrail (TLS), as a user with a private CA would.
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, tenant.ca);
  return {
    AUTH0_DOMAIN: tenant.domain,
    AUTH0_CLIENT_ID: tenant.clientId,
    AUTH0_CLIENT_SECRET: tenant.clientSecret,
    PAPERTRAIL_HOST: '127.0.0.1',
    PAPERTRAIL_PORT: String(receiver.port),
    STORAGE_FILE: join(dir, 'state.db'),
    NODE_EXTRA_CA_CERTS: caFile,
    ...extra,
  };
}
