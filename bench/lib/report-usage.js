// Preloaded into the CLI (NODE_OPTIONS=--require …) so the real, unmodified
// `node dist/cli.js run` reports its own CPU time and peak RSS: at exit it
// writes them to BENCH_USAGE_FILE. Reading /proc from outside would race the
// process's exit.
//
// Peak RSS is VmHWM from /proc/self/status, not process.resourceUsage().maxRSS:
// Linux carries a forked child's RSS high-water mark (a copy of the parent's
// RSS at fork) across exec into ru_maxrss, so maxRSS would report the bench
// process's size whenever that is the larger. VmHWM belongs to the address
// space exec created. (Same logic as peakRssBytes in proc.ts, which this plain
// JS file cannot import.)
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');

function peakRssBytes() {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: fall back below
  }
  return process.resourceUsage().maxRSS * 1024;
}

const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ cpuMicros: usage.userCPUTime + usage.systemCPUTime, peakRssBytes: peakRssBytes() }));
  });
}
