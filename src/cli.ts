#!/usr/bin/env node
/**
 * auth0-logs-to-papertrail run | serve | stream setup|status
 *
 * stdout carries one JSON document (the run report); stderr carries the
 * human progress lines. Exit codes: 0 success, 1 run failed (nothing lost),
 * 2 configuration error.
 */
// Only what every command needs is imported here; each command loads the rest
// when it runs (await import), so `--version`, `--help` and a run stopped by
// its settings start close to Node's own start-up (a cron job pays it each time).
import { existsSync, readFileSync } from 'node:fs';
import { loadConfig, secretValues, type Environment } from './config';
import { isConfigError, toErrorRecord } from './errors';

const HELP = `Usage: auth0-logs-to-papertrail <command> [--dotenv <path>]

Exports your Auth0 tenant's logs to Papertrail over verified TLS.

Commands:
  run      Export everything new since the last checkpoint, then exit.
  serve    Start the HTTP service with its built-in scheduler.
  stream setup --url https://<public host>/log-stream [--name <name>]
           Create the tenant's Custom Webhook log stream to this service, or
           update the one created before (a second call changes nothing).
           Needs LOG_STREAM_TOKEN and the create:log_streams, update:log_streams
           and read:log_streams scopes.
  stream status
           Auth0's view of that stream: id, name, status, endpoint.
  check    Verify the settings, Auth0 (credentials, read:logs), Papertrail (DNS,
           TLS) and the state store, exporting nothing; a fix for each failure.
             --send-test  also send a test message and wait for its confirmation
             --serve      also check the service's settings and its port

Options:
  --dotenv <path>    Read settings from this file (default: ./.env when present).
                     Variables already in the environment take precedence.
                     (--env-file is accepted too, but Node 20 takes that one for
                     itself and exits 9 when the file is missing.)
  --help             Show this help.
  --version          Show the version.

Settings (environment variables):
  AUTH0_DOMAIN         Tenant domain, e.g. your-tenant.us.auth0.com (required)
  AUTH0_CLIENT_ID      Client ID of an application with the read:logs scope (required)
  AUTH0_CLIENT_SECRET  Its client secret (required)
  PAPERTRAIL_HOST      syslog.collector.<region>.cloud.solarwinds.com, or a
                       legacy logsN.papertrailapp.com host (required)
  PAPERTRAIL_PORT      Port shown next to it (required)
  PAPERTRAIL_TOKEN     Ingestion token of a token destination (secret)
  PAPERTRAIL_SYSTEM    Syslog hostname shown as the system (default auth0-logs)
  PAPERTRAIL_PROGRAM   Syslog app name shown as the program (default auth0)
  BATCH_SIZE           Logs per request, 1-100 (default 100)
  LOG_LEVEL            Export types at or above: 0-4 or debug|info|warning|error|critical
  LOG_TYPES            Comma-separated type codes to export (OR-ed with LOG_LEVEL)
  START_FROM           A log id to restart after (applied once per value)
  STORAGE_FILE         SQLite state database (default ./data/state.db)
  STATE_URL            PostgreSQL URL to keep the state in instead (shared by replicas)
  MAX_RUN_SECONDS      Time budget of one run (default 900)
  SLACK_INCOMING_WEBHOOK_URL  Slack/Mattermost webhook for alerts (a secret)
  SLACK_SEND_SUCCESS   true: a summary after every exporting run (default false)
  LAG_ALERT_MINUTES    Alert when a run ends this far behind (default 60)
  METRICS_TOKEN        serve: bearer token for GET /metrics only
  LOG_STREAM_TOKEN     serve: turns on POST /log-stream (a secret)
  LOG_STREAM_ID        The stream's id in the tenant (printed by stream setup)
  LOG_STREAM_STATUS_SECONDS  serve: how often to read the stream's status (default 300)
  LOG_STREAM_AUTO_RESUME     serve: true resumes a paused/suspended stream (default false)

Output: the run report as JSON on stdout; progress lines on stderr.
Exit codes: 0 success, 1 run failed (checkpoint stays at the last delivered page),
            2 configuration error (nothing fetched, nothing changed).
            check: 0 every check passed, 1 a check failed, 2 invalid settings.
`;

interface Args {
  command: string | undefined;
  /** `stream`'s subcommand. */
  subcommand: string | undefined;
  url: string | undefined;
  name: string | undefined;
  /** Options after the command, for the command to read (e.g. check's --send-test). */
  flags: string[];
  envFile: string | undefined;
  help: boolean;
  version: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { command: undefined, subcommand: undefined, url: undefined, name: undefined, flags: [], envFile: undefined, help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--version') args.version = true;
    else if (arg === '--dotenv' || arg === '--env-file') {
      const path = argv[++i];
      if (path === undefined || path === '') throw new Error(`${arg} needs a path, e.g. ${arg} ./.env`);
      args.envFile = path;
    } else if (arg?.startsWith('--dotenv=') || arg?.startsWith('--env-file=')) {
      const path = arg.slice(arg.indexOf('=') + 1);
      if (path === '') throw new Error(`${arg.slice(0, arg.indexOf('='))} needs a path, e.g. ${arg}./.env`);
      args.envFile = path;
    }
    else if ((arg === '--url' || arg === '--name') && args.command === 'stream') {
      const value = argv[++i];
      if (value === undefined || value === '') throw new Error(`${arg} needs a value, e.g. ${arg === '--url' ? '--url https://logs.example.com/log-stream' : '--name auth0-logs-to-papertrail'}`);
      if (arg === '--url') args.url = value;
      else args.name = value;
    } else if ((arg?.startsWith('--url=') || arg?.startsWith('--name=')) && args.command === 'stream') {
      const value = arg.slice(arg.indexOf('=') + 1);
      if (arg.startsWith('--url=')) args.url = value;
      else args.name = value;
    }
    else if (args.command === undefined) args.command = arg;
    else if (args.command === 'stream' && args.subcommand === undefined) args.subcommand = arg;
    else if (arg?.startsWith('--')) args.flags.push(arg);
    else throw new Error(`Unexpected argument "${arg}".`);
  }
  return args;
}

/** Settings from the env file, overridden by the real environment. */
export function readEnvironment(envFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Environment {
  const path = envFile ?? '.env';
  if (envFile !== undefined && !existsSync(path)) throw new Error(`The env file ${path} does not exist.`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when there is a file to parse
  const fromFile = existsSync(path) ? (require('dotenv') as typeof import('dotenv')).parse(readFileSync(path)) : {};
  return { ...fromFile, ...env };
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(`${__dirname}/../package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function run(env: Environment): Promise<number> {
  let config;
  try {
    config = loadConfig(env, 'standalone');
  } catch (error) {
    if (!isConfigError(error)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.stdout.write(`${JSON.stringify({ status: 'failed', error: toErrorRecord(error) }, null, 2)}\n`);
    return 2;
  }
  const [{ createRedactor }, { createLogger }, { createStandaloneStore }, { createAdapters }, { runExport }] = await Promise.all([
    import('./runtime/redact'),
    import('./runtime/logger'),
    import('./storage/standalone-store'),
    import('./runtime/compose'),
    import('./run-export'),
  ]);
  const redact = createRedactor(secretValues(config));
  const log = createLogger({ redact });
  const store = createStandaloneStore(config, log);
  const adapters = createAdapters(config, { store, shipped: store, log });
  try {
    // Paused from the dashboard or POST /pause of a service sharing this state: a scheduled CLI run honours it.
    if ((await store.read()).paused) {
      log.info('run skipped: the export is paused (resume it with POST /resume, or on the dashboard)');
      process.stdout.write(`${JSON.stringify({ status: 'paused' }, null, 2)}\n`);
      return 0;
    }
    const result = await runExport(adapters.deps, config, {
      trigger: 'cli',
      redact,
    });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result.status === 'ok' ? 0 : 1;
  } catch (error) {
    const record = redact(toErrorRecord(error));
    if (record.code === 'RUN_IN_PROGRESS') {
      log.warn(record.message);
      process.stdout.write(`${JSON.stringify({ status: 'skipped', error: record }, null, 2)}\n`);
      return 0;
    }
    log.error(record.message);
    process.stdout.write(`${JSON.stringify({ status: 'failed', error: record }, null, 2)}\n`);
    return 1;
  } finally {
    adapters.dispose();
    await store.close();
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  let env: Environment;
  try {
    env = readEnvironment(args.envFile);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (args.flags.length > 0 && args.command !== 'check') {
    process.stderr.write(`Unexpected argument "${args.flags[0]}".\n\n${HELP}`);
    return 2;
  }
  switch (args.command) {
    case 'run':
      return run(env);
    case 'serve': {
      const { serve } = await import('./serve');
      return serve(env);
    }
    case 'stream': {
      const { streamCommand } = await import('./stream-command');
      return streamCommand(args.subcommand, { ...(args.url === undefined ? {} : { url: args.url }), ...(args.name === undefined ? {} : { name: args.name }) }, env);
    }
    case 'check': {
      const { check } = await import('./check/check-command');
      return check(env, args.flags);
    }
    default:
      process.stderr.write(`${args.command === undefined ? 'No command given.' : `Unknown command "${args.command}".`}\n\n${HELP}`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`Unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
