// Builds the single-file extension bundle the webtask runtime loads:
//   dist/auth0-logs-to-papertrail.extension.<version>.js
// and reports its size and how long a cold require takes.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = join(root, 'dist', `auth0-logs-to-papertrail.extension.${version}.js`);
// The dashboard page, compiled by build/dashboard.mjs: inlined, so the extension stays one file.
const dashboardAssets = readFileSync(join(root, 'dist', 'dashboard', 'dashboard-assets.json'), 'utf8');

await build({
  entryPoints: [join(root, 'src', 'webtask.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  // Auth0's extension runtime is Node 18 (the CLI and service need Node 20).
  target: 'node18',
  format: 'cjs',
  minify: true,
  // Error class names are part of reports (error.name) and of the HTTP status mapping.
  keepNames: true,
  sourcemap: false,
  legalComments: 'none',
  define: { DASHBOARD_ASSETS: dashboardAssets },
  // webtask-tools requires these only inside features this extension never
  // calls (its Auth0 login, pug/edge rendering, Hapi/Request helpers). Left
  // out, they stay off the runtime path; test/integration/webtask.test.ts
  // proves the bundle runs where none of them can be resolved.
  external: ['jsonwebtoken', 'superagent', 'pug', 'edge', 'boom', 'request'],
  logLevel: 'warning',
});

const bytes = statSync(outfile).size;
// A fresh process, as a cold webtask container would do it.
const ms = execFileSync(process.execPath, ['-e', `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});console.log(Number(process.hrtime.bigint()-t)/1e6)`], { encoding: 'utf8' }).trim();
console.error(`bundle: ${outfile.slice(root.length + 1)} ${(bytes / 1024).toFixed(1)} KiB, cold require ${Number(ms).toFixed(1)} ms`);
