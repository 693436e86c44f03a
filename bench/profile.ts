/**
 * `npm run bench:profile`: one CLI drain under `node --cpu-prof`, against the
 * simulated tenant and a real rsyslogd, and the profile's heaviest functions
 * (self time, then by file). Profile before optimising; measure after.
 *
 *   PROFILE_EVENTS=N     backlog size (default 30,000)
 *   PROFILE_REALISTIC=1  the realistic event mix (hostile and large events)
 *   PROFILE_KEEP=dir     keep the .cpuprofile there (default: deleted)
 *   PROFILE_TARGET=raw   profile the raw baseline (workers/raw-drain.ts) instead
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createTestPki } from '../test/support/certs';
import { CLI } from '../test/support/cli';
import { exportEnv } from '../test/support/export-env';
import { releaseOnSignals } from './lib/cleanup';
import { withReceiver } from './lib/receiver';
import { withTenant } from './lib/tenant';
import { PAGE } from './lib/options';
import { TSX_LOADER, workerPath } from './lib/worker';
import type { RawDrainInput } from './workers/raw-drain';
import { bootstrapCheckpoint } from '../src/auth0/checkpoint-id';
import { REALISTIC_MIX } from './lib/profiles';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function summarize(profile: CpuProfile, events: number): string {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (node.callFrame.functionName === '(idle)') continue;
    total += us;
    const file = node.callFrame.url.replace(/^.*node_modules\//, 'node_modules/').replace(/^.*\/dist\//, 'dist/') || '(native)';
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${file}:${node.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    const group = file.startsWith('node_modules/') ? file.split('/').slice(0, 2).join('/') : file;
    byFile.set(group, (byFile.get(group) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number): string =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `  ${(us / events).toFixed(2).padStart(7)} µs/log  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`).join('\n');
  return `busy ${(total / events).toFixed(1)} µs/log over ${events} events\n\nby function (self):\n${top(byFn, 30)}\n\nby file:\n${top(byFile, 20)}`;
}

async function main(): Promise<void> {
  releaseOnSignals();
  const events = Number(process.env['PROFILE_EVENTS'] ?? 30_000);
  const root = mkdtempSync(join(os.tmpdir(), 'a0pt-profile-'));
  try {
    const cert = createTestPki(join(root, 'pki')).server;
    const profileDir = process.env['PROFILE_KEEP'] ?? join(root, 'profile');
    mkdirSync(profileDir, { recursive: true });
    const mix = process.env['PROFILE_REALISTIC'] === '1' ? REALISTIC_MIX : {};
    await withTenant(cert, { count: events, ...mix }, (tenant) =>
      withReceiver(root, cert, async (receiver) => {
        const env = exportEnv(tenant, { port: receiver.port }, { MAX_RUN_SECONDS: '3600' });
        const raw: RawDrainInput = {
          tenantUrl: tenant.url, audience: tenant.audience, clientId: tenant.clientId, clientSecret: tenant.clientSecret,
          from: bootstrapCheckpoint(Date.now()), take: PAGE, port: receiver.port, outDir: receiver.outDir,
        };
        const target = process.env['PROFILE_TARGET'] === 'raw' ? ['--import', TSX_LOADER, workerPath('raw-drain'), JSON.stringify(raw)] : [CLI, 'run'];
        // --cpu-prof is refused in NODE_OPTIONS, so the process is started with it on the command line.
        const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...target], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2000)));
        const [code] = await once(child, 'close') as [number | null];
        if (code !== 0) throw new Error(`CLI exited ${code}: ${stderr}`);
        // tsx's loader runs in a thread of its own, with a profile of its own: the main thread's is the largest.
        const file = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).sort((a, b) => statSync(join(profileDir, a)).size - statSync(join(profileDir, b)).size).pop();
        if (!file) throw new Error('no profile written');
        process.stdout.write(`${summarize(JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile, events)}\n`);
      }),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
