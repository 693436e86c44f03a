/**
 * The built CLI on Node versions other than the one that installed it.
 * better-sqlite3 is compiled for one Node version at install time; on another
 * its native addon cannot load, and the run must say how to fix that.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/cli';
import { nodeBinary } from '../support/test-runtimes';

describe('the CLI on a Node the SQLite driver was not built for', () => {
  it('stops with exit 1 naming `npm rebuild better-sqlite3`, fetches nothing and leaves no empty database file', () => {
    // Node 18 (ABI 108) never matches the addon npm ci built for the Node running the tests.
    const dir = mkdtempSync(join(tmpdir(), 'a0pt-abi-'));
    const storageFile = join(dir, 'data', 'state.db');
    const result = spawnSync(nodeBinary('18'), [CLI, 'run'], {
      encoding: 'utf8',
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        // Unreachable on purpose: a fetch would show as a connection error instead.
        AUTH0_DOMAIN: 'tenant.invalid',
        AUTH0_CLIENT_ID: 'client',
        AUTH0_CLIENT_SECRET: 'a-client-secret-never-printed',
        PAPERTRAIL_HOST: '127.0.0.1',
        PAPERTRAIL_PORT: '9',
        STORAGE_FILE: storageFile,
      },
    });
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as { status: string; error: { message: string } };
    expect(report.status).toBe('failed');
    expect(report.error.message).toContain('npm rebuild better-sqlite3');
    expect(result.stderr).toContain('npm rebuild better-sqlite3');
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/tenant\.invalid|a-client-secret-never-printed/);
    expect(existsSync(storageFile)).toBe(false);
    expect(readdirSync(dir).flatMap((d) => readdirSync(join(dir, d)))).toEqual([]);
  });
});
