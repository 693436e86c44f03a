/**
 * Debian's Prometheus 2.x (`prometheus` package: /usr/bin/prometheus and
 * /usr/bin/promtool) for the tests: promtool checks and unit-tests the
 * README's alert rules; a real Prometheus scrapes a real `serve` and
 * evaluates those rules. PROMETHEUS_PATH and PROMTOOL_PATH override the paths.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './serve';

export const PROMTOOL = process.env['PROMTOOL_PATH'] ?? '/usr/bin/promtool';
export const PROMETHEUS = process.env['PROMETHEUS_PATH'] ?? '/usr/bin/prometheus';

export function promtool(args: string[], cwd?: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, args, { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A loopback port free a moment ago: Prometheus has no way to report the port it picked for :0. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Prometheus {
  url: string;
  /** An instant query's vector, as [labels, value] pairs. */
  query(expr: string): Promise<{ labels: Record<string, string>; value: number }[]>;
  /** The alerts Prometheus holds now, with their state (pending, firing). */
  alerts(): Promise<{ labels: Record<string, string>; state: string }[]>;
  /** Resolves once a scrape after now has succeeded. */
  scrapedAfter(since: number): Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

/**
 * Starts Prometheus on a loopback port with one job scraping `target`
 * (host:port) every second with `token`, and `rules` (YAML text) evaluated
 * every second.
 */
export async function startPrometheus(options: { target: string; token?: string; rules: string }): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  writeFileSync(join(dir, 'rules.yml'), options.rules);
  const auth = options.token ? `    authorization: { credentials: ${JSON.stringify(options.token)} }\n` : '';
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    'rule_files: [rules.yml]',
    'scrape_configs:',
    '  - job_name: auth0-logs-to-papertrail',
    auth.trimEnd(),
    `    static_configs: [{ targets: [${JSON.stringify(options.target)}] }]`,
    '',
  ].filter((l) => l !== '').join('\n'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--web.enable-lifecycle', '--log.level=warn',
  ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T };
    if (body.status !== 'success') throw new Error(`Prometheus answered ${res.status} to ${path}`);
    return body.data;
  };
  const prometheus: Prometheus = {
    url,
    async query(expr) {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      return data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
    },
    async alerts() {
      const data = await api<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts');
      return data.alerts;
    },
    async scrapedAfter(since) {
      await until('a Prometheus scrape', async () => {
        const data = await api<{ activeTargets: { health: string; lastScrape: string }[] }>('/api/v1/targets');
        const target = data.activeTargets[0];
        return target !== undefined && target.health === 'up' && Date.parse(target.lastScrape) > since;
      }, 30_000);
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => output,
  };
  try {
    await until('Prometheus to be ready', async () => {
      if (child.exitCode !== null) throw new Error(`Prometheus exited: ${output}`);
      return fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    }, 30_000);
  } catch (error) {
    await prometheus.stop();
    throw error;
  }
  return prometheus;
}
