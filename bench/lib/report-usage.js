// Preloaded into the CLI (NODE_OPTIONS=--require …) so the real, unmodified
// `node dist/cli.js run` reports its own CPU time and peak RSS: at exit it
// writes process.resourceUsage() (getrusage: µs of CPU, maxRSS in KiB) to
// BENCH_USAGE_FILE. Reading /proc from outside would race the process's exit.
'use strict';
const { writeFileSync } = require('node:fs');

const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, JSON.stringify(process.resourceUsage()));
  });
}
