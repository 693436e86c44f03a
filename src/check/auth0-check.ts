/**
 * Auth0, in one logs request and no export: reachable, the client credentials
 * accepted, read:logs granted. The request asks for one log after an id of the
 * current second, so it returns at most one, which is never shipped.
 */
import { checkpointIdAt } from '../auth0/checkpoint-id';
import { createHttpsTransport } from '../auth0/http';
import { ManagementApiClient } from '../auth0/management-api-client';
import { systemClock } from '../clock';
import type { Config } from '../config';
import { toErrorRecord } from '../errors';
import { failed, ok, skipped, type CheckItem } from './checklist';

const REACHABLE = 'Auth0 reachable';
const CREDENTIALS = 'Auth0 credentials accepted';
const READ_LOGS = 'read:logs granted';
const TIMEOUT_MS = 15_000;

export async function checkAuth0(config: Config): Promise<CheckItem[]> {
  const { domain } = config.auth0;
  const transport = createHttpsTransport();
  const client = new ManagementApiClient({ ...config.auth0, transport, clock: systemClock, maxAttempts: 1, requestTimeoutMs: TIMEOUT_MS });
  try {
    await client.getLogs({ from: checkpointIdAt(Date.now()), take: 1, deadline: Date.now() + TIMEOUT_MS });
    return [ok(REACHABLE, `${domain} answered over verified TLS`), ok(CREDENTIALS, 'a Management API token was issued'), ok(READ_LOGS, 'GET /api/v2/logs answered 200')];
  } catch (error) {
    const record = toErrorRecord(error);
    const after = (from: number): CheckItem[] => [REACHABLE, CREDENTIALS, READ_LOGS].slice(from).map((name) => skipped(name, 'not checked: the check before it failed'));
    switch (record.code) {
      case 'AUTH0_UNAUTHORIZED':
        return [
          ok(REACHABLE, `${domain} answered over verified TLS`),
          failed(CREDENTIALS, record.message, 'copy the Client ID and Client Secret of a machine-to-machine application from the Auth0 Dashboard (Applications) into AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET, and authorize it for the Auth0 Management API.'),
          ...after(2),
        ];
      case 'AUTH0_FORBIDDEN':
        return [
          ok(REACHABLE, `${domain} answered over verified TLS`),
          ok(CREDENTIALS, 'a Management API token was issued'),
          failed(READ_LOGS, record.message, 'in the Auth0 Dashboard: Applications → APIs → Auth0 Management API → Machine to Machine Applications, open this application and grant the read:logs scope.'),
        ];
      case 'AUTH0_TLS_REJECTED':
      case 'AUTH0_UNREACHABLE':
      case 'DEADLINE':
        return [
          failed(REACHABLE, record.message, `check AUTH0_DOMAIN (your tenant's domain, e.g. your-tenant.us.auth0.com, or its custom domain) and that this machine can reach it over HTTPS (DNS, firewall, proxy).`),
          ...after(1),
        ];
      default:
        // Auth0 answered, but not as documented (a wrong domain often answers 404 here).
        return [ok(REACHABLE, `${domain} answered`), failed(CREDENTIALS, record.message, 'check AUTH0_DOMAIN: it must be the tenant domain shown in the application settings.'), ...after(2)];
    }
  } finally {
    transport.close();
  }
}
