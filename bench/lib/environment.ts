/** The facts a reader needs to compare two bench results: when, on what, with which receiver. */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import { delimiter, join } from 'node:path';

export interface Environment {
  date: string;
  node: string;
  cores: number;
  cpuModel: string;
  rsyslog: string;
  /** 1-minute load average when the bench started: other work on the machine skews every figure. */
  loadAverageAtStart: number;
}

function findRsyslogd(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, 'rsyslogd'), constants.X_OK);
      return join(dir, 'rsyslogd');
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function rsyslogVersion(): string {
  const path = findRsyslogd();
  if (path === undefined) return 'not found';
  const out = spawnSync(path, ['-v'], { encoding: 'utf8' });
  // "rsyslogd  8.2302.0 (aka 2023.02) compiled with: …"
  return /rsyslogd\s+(\S+(?:\s+\(aka [^)]+\))?)/.exec(out.stdout ?? '')?.[1] ?? 'unknown';
}

export function describeEnvironment(now = new Date()): Environment {
  const cpus = os.cpus();
  return {
    date: now.toISOString(),
    node: process.version,
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    rsyslog: rsyslogVersion(),
    loadAverageAtStart: Number((os.loadavg()[0] ?? 0).toFixed(2)),
  };
}
