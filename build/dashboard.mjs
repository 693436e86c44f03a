// Compiles the dashboard page (src/dashboard/page/*, src/dashboard/client/*.ts)
// into one JSON document of {html, css, js, icon}, written beside the compiled
// src/dashboard/assets.ts in dist/. The CLI reads it from there; the extension
// bundle inlines it (build/bundle.mjs), so the page needs no file of its own.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'src', 'dashboard', 'page');

const script = await build({
  entryPoints: [join(root, 'src', 'dashboard', 'client', 'main.ts')],
  bundle: true,
  write: false,
  platform: 'browser',
  format: 'iife',
  // Browsers an admin may reasonably use; nothing newer is needed.
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const assets = {
  html: readFileSync(join(page, 'index.html'), 'utf8'),
  css: readFileSync(join(page, 'dashboard.css'), 'utf8'),
  icon: readFileSync(join(page, 'favicon.svg'), 'utf8'),
  js: script.outputFiles[0].text,
};
const out = join(root, 'dist', 'dashboard', 'dashboard-assets.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(assets));
const kib = (s) => (Buffer.byteLength(s) / 1024).toFixed(1);
// To stderr: `npm start -- run` keeps stdout for the run report.
console.error(`dashboard: html ${kib(assets.html)} KiB, css ${kib(assets.css)} KiB, js ${kib(assets.js)} KiB`);
