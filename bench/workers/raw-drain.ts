/**
 * Scenario "unthrottled drain", the physical baseline: what a plain loop gets
 * out of the same tenant and receiver with none of the product's guarantees.
 * Token, then `GET /api/v2/logs?from&take=100` one page after another on a
 * keep-alive agent, each page formatted with the product's formatLog and
 * written to ONE raw TLS connection (waiting for 'drain'), which is closed at
 * the end. No checkpoint, no retries, no per-page confirmation.
 */
import https from 'node:https';
import type { Auth0Log } from '../../src/auth0/auth0-log';
import { formatLog } from '../../src/stages/format-log';
import { FORMAT } from '../lib/lines';
import { LineCounter } from '../lib/output-lines';
import { peakRssBytes } from '../lib/proc';
import { RawTlsWriter } from '../lib/raw-tls';
import { workerMain } from '../lib/worker';

export interface RawDrainInput {
  tenantUrl: string;
  audience: string;
  clientId: string;
  clientSecret: string;
  /** The checkpoint the CLI's first run starts from. */
  from: string;
  take: number;
  port: number;
  outDir: string;
}

export interface RawDrainOutput {
  events: number;
  pages: number;
  sentMs: number;
  receivedMs: number;
  cpuMicros: number;
  peakRssBytes: number;
}

// One socket, reused: the tenant trusts NODE_EXTRA_CA_CERTS like the CLI does.
const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });

function request(url: string, options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: options.method, headers: options.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`${options.method} ${url} answered ${res.statusCode}: ${body.slice(0, 200)}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function main(input: RawDrainInput): Promise<RawDrainOutput> {
  const counter = new LineCounter(input.outDir);
  const cpu = process.cpuUsage();
  const started = performance.now();

  const tokenBody = JSON.stringify({ grant_type: 'client_credentials', client_id: input.clientId, client_secret: input.clientSecret, audience: input.audience });
  const token = (JSON.parse(await request(`${input.tenantUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: tokenBody })) as { access_token: string }).access_token;
  const writer = await RawTlsWriter.connect('127.0.0.1', input.port);
  let events = 0;
  let pages = 0;
  try {
    for (let from = input.from; ; ) {
      const url = `${input.tenantUrl}/api/v2/logs?from=${encodeURIComponent(from)}&take=${input.take}`;
      const logs = JSON.parse(await request(url, { method: 'GET', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } })) as Auth0Log[];
      const last = logs[logs.length - 1];
      if (last?.log_id === undefined) break;
      // Written without awaiting the receiver: the next fetch overlaps this page's delivery.
      await writer.write(`${logs.map((log) => formatLog(log, FORMAT).line).join('\n')}\n`);
      events += logs.length;
      pages++;
      from = last.log_id;
    }
    await writer.end();
  } finally {
    writer.destroy();
    agent.destroy();
  }
  const sentMs = performance.now() - started;
  await counter.waitFor(events, 60_000);
  const receivedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { events, pages, sentMs, receivedMs, cpuMicros: used.user + used.system, peakRssBytes: peakRssBytes() };
}

workerMain(main);
