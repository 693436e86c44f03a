/** The simulated Auth0 tenant, in this process, serving recent events. */
import type { ServerCert } from '../../test/support/certs';
import type { TenantEvent } from '../../test/support/events';
import { startFakeTenant, type FakeTenant, type FakeTenantOptions } from '../../test/support/fake-tenant';
import { track } from './cleanup';

/**
 * The CLI's first run starts 31 days back (the longest log retention), so
 * events must be newer than that; two days back leaves room for 1M events at
 * the generator's 20 per second (~14 hours of log).
 */
const RECENT_MS = 2 * 24 * 3600 * 1000;

export async function withTenant<T>(cert: ServerCert, options: FakeTenantOptions, body: (tenant: FakeTenant) => Promise<T>): Promise<T> {
  const tenant = await startFakeTenant({
    start: new Date(Date.now() - RECENT_MS),
    cert: cert.cert,
    key: cert.key,
    ca: cert.ca,
    caFile: cert.caFile,
    ...options,
  });
  const stop = track(`simulated tenant ${tenant.url}`, () => tenant.stop());
  try {
    return await body(tenant);
  } finally {
    await stop();
  }
}

/** The first `count` events of the tenant, for checkDelivery (which needs them in memory). */
export function eventsOf(tenant: FakeTenant, count = tenant.size()): TenantEvent[] {
  return Array.from({ length: count }, (_, i) => tenant.eventAt(i));
}
