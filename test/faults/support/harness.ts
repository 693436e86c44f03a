/**
 * What every fault scenario needs, with cleanup that cannot be forgotten:
 * simulated tenants, real rsyslogd receivers, the built CLI (run and serve)
 * and the webtask host. Everything started through a harness is stopped in
 * afterEach, whether the scenario passed or failed, and every temp directory
 * it made is removed (the receiver output of a large drain is hundreds of MB).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTestPki, type ServerCert, type TestPki } from '../../support/certs';
import { startCli, type CliResult } from '../../support/cli';
import { exportEnv } from '../../support/export-env';
import { startFakeTenant, type FakeTenant, type FakeTenantOptions } from '../../support/fake-tenant';
import { startRsyslogReceiver, type RsyslogReceiver } from '../../support/rsyslog-receiver';
import { startWebtaskHost, type WebtaskHost } from '../../support/webtask-host';

export type Env = Record<string, string> & { STORAGE_FILE: string };

export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliResult>;
}

export interface HttpAnswer {
  status: number;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

export interface Service extends RunningCli {
  url: string;
  stderr(): string;
  /** A request to the service; `token` is sent as the bearer token when given. */
  call(method: 'GET' | 'POST', path: string, options?: { body?: unknown; token?: string }): Promise<HttpAnswer>;
  /** SIGTERM, then the exit: the service's graceful shutdown. */
  stop(): Promise<CliResult>;
}

export interface Harness {
  readonly pki: TestPki;
  /** A tenant over HTTPS with the suite's CA, its events starting a day ago (inside the bootstrap window). */
  tenant(options?: FakeTenantOptions): Promise<FakeTenant>;
  receiver(cert?: ServerCert): Promise<RsyslogReceiver>;
  /** Settings for the CLI against `tenant` and `receiver`, with a fresh state directory. */
  env(tenant: FakeTenant, receiver: { port: number }, extra?: Record<string, string>): Env;
  cli(args: readonly string[], env: Record<string, string>): RunningCli;
  run(env: Record<string, string>): Promise<CliResult>;
  serve(env: Record<string, string>): Promise<Service>;
  /** The extension under webtask-runtime, its storage a file that does not exist yet (host.storageFile). */
  webtask(secrets: Record<string, string>): Promise<WebtaskHost>;
  /** Registers extra cleanup, run in reverse order after the scenario. */
  defer(cleanup: () => unknown): void;
}

const SERVE_START_TIMEOUT_MS = 20_000;

export function dayAgo(): Date {
  return new Date(Date.now() - 86_400_000);
}

export async function httpCall(url: string, method: 'GET' | 'POST', options: { body?: unknown; token?: string } = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  const res = await fetch(url, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Call at the top of a test file. One test PKI per file (openssl is slow);
 * everything else is per scenario.
 */
export function useHarness(): Harness {
  const pki = createTestPki();
  let cleanups: (() => unknown)[] = [];
  const defer = (cleanup: () => unknown): void => {
    cleanups.push(cleanup);
  };

  afterEach(async () => {
    const pending = cleanups.reverse();
    cleanups = [];
    const failures: unknown[] = [];
    for (const cleanup of pending) {
      try {
        await cleanup();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new Error(`cleanup failed: ${failures.map(String).join('; ')}`);
  });

  const cli = (args: readonly string[], env: Record<string, string>): RunningCli => {
    const started = startCli(args, env);
    // Killed (and waited for) if the scenario left it running, e.g. after a failed assertion.
    defer(async () => {
      if (!hasExited(started.child)) started.child.kill('SIGKILL');
      await started.done;
    });
    return started;
  };

  return {
    pki,
    async tenant(options = {}) {
      const { server } = pki;
      const tenant = await startFakeTenant({ start: dayAgo(), cert: server.cert, key: server.key, ca: server.ca, caFile: server.caFile, ...options });
      defer(() => tenant.stop());
      return tenant;
    },
    async receiver(cert = pki.server) {
      // Our own dir (not the receiver's default) so it is removed now, not at process exit.
      const dir = mkdtempSync(join(tmpdir(), 'a0pt-faults-rsyslog-'));
      defer(() => rmSync(dir, { recursive: true, force: true }));
      const receiver = await startRsyslogReceiver({ cert, dir });
      defer(() => receiver.stop());
      return receiver;
    },
    env(tenant, receiver, extra = {}) {
      const env = exportEnv(tenant, receiver, extra);
      defer(() => rmSync(dirname(env.STORAGE_FILE), { recursive: true, force: true }));
      return env;
    },
    cli,
    run: (env) => cli(['run'], env).done,
    async serve(env) {
      const started = cli(['serve'], { HOST: '127.0.0.1', PORT: '0', ...env });
      let stderr = '';
      started.child.stderr?.on('data', (chunk: string) => (stderr += chunk));
      const deadline = Date.now() + SERVE_START_TIMEOUT_MS;
      let url: string | undefined;
      while (url === undefined) {
        url = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
        if (url !== undefined) break;
        if (hasExited(started.child) || Date.now() > deadline) throw new Error(`serve did not start: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const base = url;
      return {
        ...started,
        url: base,
        stderr: () => stderr,
        call: (method, path, options) => httpCall(`${base}${path}`, method, options),
        stop: async () => {
          if (!hasExited(started.child)) started.child.kill('SIGTERM');
          return started.done;
        },
      };
    },
    async webtask(secrets) {
      // Storage stays in the host's own temp dir (the default), so removing that dir leaves nothing behind.
      const host = await startWebtaskHost(secrets, { caFile: pki.server.caFile });
      defer(() => rmSync(dirname(host.storageFile), { recursive: true, force: true }));
      defer(() => host.close());
      return host;
    },
    defer,
  };
}

/** Polls `check` until it holds, failing with `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
