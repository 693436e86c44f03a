/** `auth0-logs-to-papertrail serve` as a real process, for tests that talk to it over HTTP. */
import { startCli } from './cli';

export interface Service {
  url: string;
  child: ReturnType<typeof startCli>['child'];
  done: ReturnType<typeof startCli>['done'];
  stderr(): string;
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `serve` on a free loopback port and resolves once it listens. */
export async function startServe(env: Record<string, string>, node?: string): Promise<Service> {
  const service = startCli(['serve'], { HOST: '127.0.0.1', PORT: '0', ...env }, undefined, node);
  let stderr = '';
  service.child.stderr?.on('data', (c: string) => (stderr += c));
  await until('serve to listen', () => /serving on http:\/\/127\.0\.0\.1:\d+/.test(stderr));
  const url = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1] ?? '';
  return { url, child: service.child, done: service.done, stderr: () => stderr };
}
