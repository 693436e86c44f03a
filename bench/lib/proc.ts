/**
 * Process figures from /proc (Linux; elsewhere they are left out or fall back):
 * CPU time of another process (rsyslogd), and this process's own peak RSS.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU of `pid` so far, in µs (resolution 1/CLK_TCK s), or undefined when unreadable. */
export function cpuMicrosOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after its ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return ((utime + stime) * 1_000_000) / clockTicks();
  } catch {
    return undefined;
  }
}

/**
 * This process's peak RSS in bytes: VmHWM, the high-water mark of the address
 * space exec created. Not process.resourceUsage().maxRSS: Linux carries a
 * forked child's high-water mark (a copy of the parent's RSS at fork) across
 * exec into ru_maxrss, so a child of a large parent would report the parent.
 */
export function peakRssBytes(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}
