/**
 * The original extension's pipeline, installed for the bench only: in
 * bench/original, from its own package.json and lock file, with `npm ci`
 * when it is missing. Never a dependency of the product.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(__dirname, '..', 'original');

export function ensureOriginalInstalled(progress: (message: string) => void): void {
  if (existsSync(join(DIR, 'node_modules', 'auth0-log-extension-tools', 'package.json')) && existsSync(join(DIR, 'node_modules', 'winston-papertrail', 'package.json'))) return;
  progress('installing the original extension\'s pipeline in bench/original (npm ci)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: DIR, stdio: ['ignore', 'ignore', 'inherit'] });
}
