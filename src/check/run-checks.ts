/**
 * The checks after the settings, in order: Auth0, Papertrail, the state store,
 * and for `serve` the port; nothing is exported. Shared by the CLI's `check`
 * (check-command.ts) and the dashboard's admin view (POST /check). Every text
 * passes through the redactor: no secret is ever shown.
 */
import { secretValues, type Config } from '../config';
import { createRedactor } from '../runtime/redact';
import { checkAuth0 } from './auth0-check';
import { ok, type CheckItem, type Checklist } from './checklist';
import { checkPapertrail } from './papertrail-check';
import { checkPort } from './port-check';
import { checkStore, type StoreUnderCheck } from './store-check';

export interface CheckOptions {
  /** Send a test message to Papertrail and wait for the receiver to confirm it. */
  sendTest: boolean;
  /** Check the service's settings and port too. */
  serve?: { host: string; port: number };
  /** Opens the state store to check. */
  openStore: () => StoreUnderCheck;
}

export const SETTINGS_ITEM = 'settings valid';

/** Everything after the settings, for a validated Config (the dashboard's admin view starts here too). */
export async function runChecks(config: Config, options: CheckOptions): Promise<Checklist> {
  const items: CheckItem[] = [ok(SETTINGS_ITEM, 'every setting is valid')];
  items.push(...(await checkAuth0(config)));
  items.push(...(await checkPapertrail(config, options.sendTest)));
  items.push(await checkStore(config, options.openStore));
  if (options.serve) items.push(await checkPort(options.serve.host, options.serve.port));
  const redact = createRedactor(secretValues(config));
  return redact({ ok: items.every((item) => item.status !== 'failed'), items });
}
