/**
 * Promise: logs go only to a receiver that proves it is the configured host.
 * A certificate from a CA nobody trusts, or one issued for another host
 * name, stops the run before a single log byte is sent, with an error that
 * names the certificate problem; the checkpoint does not move.
 *
 * The receiver is a real rsyslogd presenting the bad certificate; the CLI
 * trusts only the suite's CA (NODE_EXTRA_CA_CERTS), as a user would.
 */
import type { ServerCert } from '../support/certs';
import { recordFigures, RANK, stopwatch } from './support/figures';
import { useHarness } from './support/harness';
import { readState } from './support/state';

const EVENTS = 300;
const h = useHarness();

const CASES: ReadonlyArray<{ what: string; cert: (pki: typeof h.pki) => ServerCert; names: RegExp }> = [
  { what: 'signed by an untrusted CA', cert: (pki) => pki.untrusted, names: /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED_CERT_IN_CHAIN/ },
  { what: 'issued for another host name', cert: (pki) => pki.wrongHost, names: /ERR_TLS_CERT_ALTNAME_INVALID/ },
];

describe('receiver certificate', () => {
  it.each(CASES)('$what: zero log messages reach the receiver, the run fails naming the certificate problem, the checkpoint stays', async ({ what, cert, names }) => {
    const elapsed = stopwatch();
    const tenant = await h.tenant({ count: EVENTS });
    const rogue = await h.receiver(cert(h.pki));
    const env = h.env(tenant, rogue);
    const result = await h.run(env);
    const received = (await rogue.messages()).length;
    const error = result.report?.['error'] as { code?: string; message?: string } | undefined;
    recordFigures({
      scenario: `receiver certificate ${what}`,
      rank: RANK.certificates,
      expected: 0,
      delivered: received,
      missing: 0,
      duplicates: 0,
      runs: 1,
      wallMs: elapsed(),
      notes: `exit ${String(result.code)}, ${String(error?.code)} (${/verification \(([A-Z_]+)/.exec(error?.message ?? '')?.[1] ?? 'no reason given'})`,
    });

    expect(received).toBe(0);
    expect(result.code).toBe(1);
    expect(result.report).toMatchObject({ status: 'failed', exported: 0, error: { code: 'SINK_TLS_REJECTED' } });
    expect(error?.message).toMatch(/certificate failed verification/);
    expect(error?.message).toMatch(names);
    expect(error?.message).toContain(`127.0.0.1:${rogue.port}`);
    expect(result.stderr).toMatch(names);
    expect(readState(env.STORAGE_FILE).checkpoint).toBeNull();
  });
});
