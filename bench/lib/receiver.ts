/**
 * A fresh rsyslogd per measured run, in a temp dir that is deleted when the
 * run is done: every run starts from an empty output (1M events leave ~2 GB),
 * and no run's output slows the next one's counting.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerCert } from '../../test/support/certs';
import { startRsyslogReceiver, type RsyslogReceiver } from '../../test/support/rsyslog-receiver';
import { track } from './cleanup';
import { LineCounter } from './output-lines';
import { cpuMicrosOf } from './proc';

export interface BenchReceiver {
  readonly rsyslog: RsyslogReceiver;
  readonly port: number;
  /** Where the receiver writes its records (see output-lines.ts). */
  readonly outDir: string;
  readonly counter: LineCounter;
  /** rsyslogd's CPU time so far, in µs (undefined off Linux). */
  cpuMicros(): number | undefined;
  /** Stops rsyslogd and deletes its directory. */
  dispose(): Promise<void>;
}

export async function startReceiver(root: string, cert: ServerCert): Promise<BenchReceiver> {
  const dir = mkdtempSync(join(root, 'rsyslog-'));
  let rsyslog: RsyslogReceiver;
  try {
    rsyslog = await startRsyslogReceiver({ dir, cert });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const dispose = track(`rsyslogd in ${dir}`, async () => {
    try {
      await rsyslog.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const outDir = join(dir, 'out');
  return {
    rsyslog,
    port: rsyslog.port,
    outDir,
    counter: new LineCounter(outDir),
    cpuMicros: () => cpuMicrosOf(rsyslog.pid),
    dispose,
  };
}

/** Runs `body` with a fresh receiver and always disposes of it. */
export async function withReceiver<T>(root: string, cert: ServerCert, body: (receiver: BenchReceiver) => Promise<T>): Promise<T> {
  const receiver = await startReceiver(root, cert);
  try {
    return await body(receiver);
  } finally {
    await receiver.dispose();
  }
}
