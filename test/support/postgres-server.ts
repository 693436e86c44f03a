/**
 * A throwaway PostgreSQL server for tests: a fresh cluster (initdb) in a temp
 * directory, listening on a free loopback port, password authentication over
 * TCP. The server process is spawned directly, so the test owns it and stops
 * it. PostgreSQL refuses to run as root; when the tests run as root, the
 * cluster belongs to, and the server runs as, the `postgres` user that
 * Debian's package creates (scripts/ensure-test-deps.mjs installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

export interface PostgresServer {
  port: number;
  password: string;
  /** A URL with the password, for `database` (default "postgres"). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** The newest server installed by Debian's packages. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb); scripts/ensure-test-deps.mjs installs it');
  return join(root, versions[0] as string, 'bin');
}

/** uid and gid of `name` from /etc/passwd. */
function account(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name} to run PostgreSQL as (tests run as root; PostgreSQL refuses root)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
let databases = 0;

/** `password`: the superuser's password (default: random), e.g. a distinctive one a secrets scan searches for. */
export async function startPostgres(options: { password?: string } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'a0pt-pg-'));
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? account('postgres') : undefined;
  const password = options.password ?? randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'pwfile'), `${password}\n`);
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(join(dir, 'pwfile'), owner.uid, owner.gid);
  }
  const data = join(dir, 'data');
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--pwfile', join(dir, 'pwfile'), '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync'], {
    encoding: 'utf8',
    cwd: dir,
    ...owner,
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout || init.error?.message}`);
  // PostgreSQL cannot bind port 0, so a free port is picked and may be taken by another process
  // before the server binds it: the server then exits saying so, and another port is tried.
  let port = 0;
  let child: ChildProcess | undefined;
  let log = '';
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const started = await startOn(port);
    child = started.child;
    log = started.log();
    if (started.ok) break;
    if (attempt >= 5 || !/could not bind|already in use/i.test(log)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`PostgreSQL did not start: ${started.error}\n${log}`);
    }
  }
  const server = child;
  const url = (database = 'postgres'): string => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
  const stop = async (): Promise<void> => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGINT'); // fast shutdown: ends sessions, no waiting for clients
      await once(server, 'exit');
    }
    running.delete(server);
    rmSync(dir, { recursive: true, force: true });
  };

  /** Starts the server on `port` and waits until it answers as ours (our password), or exits. */
  async function startOn(on: number): Promise<{ ok: boolean; child: ChildProcess; log: () => string; error?: string }> {
    // Durability settings off: a test cluster need not survive a power cut, and fsync would slow every commit.
    const proc = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(on), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...owner,
    });
    running.add(proc);
    let text = '';
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => (text = (text + c).slice(-8_000)));
    const end = Date.now() + 30_000;
    for (;;) {
      const client = new Client({ connectionString: `postgres://postgres:${password}@127.0.0.1:${on}/postgres` });
      try {
        await client.connect();
        await client.end();
        return { ok: true, child: proc, log: () => text };
      } catch (error) {
        await client.end().catch(() => undefined);
        if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > end) {
          if (proc.exitCode === null && proc.signalCode === null) {
            proc.kill('SIGKILL');
            await once(proc, 'exit');
          }
          running.delete(proc);
          return { ok: false, child: proc, log: () => text, error: (error as Error).message };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  return {
    port,
    password,
    url,
    stop,
    createDatabase: async () => {
      const name = `a0pt_test_${process.pid}_${++databases}`;
      const client = new Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
  };
}

/** Kills any server a test left behind; call from afterAll. */
export function killAllPostgres(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/**
 * One server for a whole test file: started before its first test, stopped
 * (and anything left behind killed) after its last. Call at the top level of
 * the file; the returned function gives the running server to the tests.
 */
export function usePostgresServer(startTimeoutMs = 120_000): () => PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  }, startTimeoutMs);
  afterAll(async () => {
    await server?.stop();
    killAllPostgres();
  });
  return () => {
    if (!server) throw new Error('the PostgreSQL server did not start (see beforeAll)');
    return server;
  };
}
