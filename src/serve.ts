/**
 * `auth0-logs-to-papertrail serve`: the same HTTP app as the extension, plus
 * a scheduler (SCHEDULE, 5 or 6 cron fields, or `continuous` for follow mode,
 * see follow.ts), pause/resume, and a graceful shutdown that finishes the
 * pages in flight and starts no other.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP } from 'node:net';
import { Cron } from 'croner';
import { loadConfig, secretValues, type Config, type Environment } from './config';
import { ConfigError, isConfigError, RunInProgressError, type SettingProblem } from './errors';
import { followService } from './follow';
import { createApp } from './http/app';
import { LOG_STREAM_PATH } from './http/log-stream-routes';
import type { SharedStreamActivity } from './log-stream/activity';
import { LogStream } from './log-stream/log-stream';
import { startStreamWatch } from './log-stream/watch-service';
import { pruneShippedIds } from './storage/retention';
import { loadLogStreamSettings, loadServiceTls, type LogStreamSettings, type ServiceTls } from './log-stream/settings';
import { systemClock } from './clock';
import { TlsSessionCache, TlsSyslogSink } from './papertrail/tls-syslog-sink';
import type { LogSink, Metrics, ShippedIds, StateStore } from './ports';
import { measuredSink } from './metrics/measured-sink';
import { PrometheusMetrics } from './metrics/prometheus-metrics';
import { runExport } from './run-export';
import type { RunReport } from './run-once';
import { createAdapters } from './runtime/compose';
import { createLogger } from './runtime/logger';
import { ProgressFeed } from './runtime/progress-feed';
import { createRedactor } from './runtime/redact';
import { createStandaloneStore } from './storage/standalone-store';
import { HoldingShippedIds } from './storage/holding-shipped-ids';
import { PendingTakeBacks, rangesWaiting } from './stages/take-back';

export interface ServiceSettings {
  /** A cron expression, or CONTINUOUS. */
  schedule: string;
  /** Follow mode's wait between polls once caught up. */
  pollIntervalMs: number;
  host: string;
  port: number;
  logStream: LogStreamSettings;
  /** Serve HTTPS with this pair (Auth0 sends log streams only to publicly trusted certificates). */
  tls: ServiceTls | null;
  /** Bearer token for GET /metrics only; null when not set. */
  metricsToken: string | null;
}

/** The SCHEDULE value for follow mode. */
export const CONTINUOUS = 'continuous';
export const SERVICE_DEFAULTS = { SCHEDULE: '*/5 * * * *', POLL_INTERVAL_SECONDS: 5, HOST: '127.0.0.1', PORT: 8080 } as const;
/** How long a shutdown waits for the page in flight before giving up on it (it is then simply not saved). */
const SHUTDOWN_GRACE_MS = 30_000;
/** How often the record of shipped ids forgets what it no longer needs (see storage/retention.ts). */
const PRUNE_EVERY_MS = 10 * 60_000;
/** How often a take-back no run could write is tried again. */
const TAKE_BACK_RETRY_MS = 5_000;

export function loadServiceSettings(env: Environment): ServiceSettings {
  const problems: SettingProblem[] = [];
  let schedule = (env['SCHEDULE'] ?? '').trim() || SERVICE_DEFAULTS.SCHEDULE;
  if (schedule.toLowerCase() === CONTINUOUS) {
    schedule = CONTINUOUS;
  } else {
    const fields = schedule.split(/\s+/).length;
    try {
      if (fields !== 5 && fields !== 6) throw new Error(`has ${fields} fields`);
      new Cron(schedule, { paused: true }).stop();
    } catch (error) {
      problems.push({
        setting: 'SCHEDULE',
        problem: `"${schedule}" is not a cron expression (${(error as Error).message}).`,
        fix: `use 5 fields (minute hour day month weekday), e.g. "*/5 * * * *", 6 with seconds first, e.g. "0 */5 * * * *", or "${CONTINUOUS}" to follow the log.`,
      });
    }
  }
  const rawPoll = (env['POLL_INTERVAL_SECONDS'] ?? '').trim();
  const poll = rawPoll === '' ? SERVICE_DEFAULTS.POLL_INTERVAL_SECONDS : /^\d{1,4}$/.test(rawPoll) ? Number(rawPoll) : -1;
  if (poll < 1 || poll > 3600) problems.push({ setting: 'POLL_INTERVAL_SECONDS', problem: `"${rawPoll}" is not a number of seconds from 1 to 3600.`, fix: 'use a whole number of seconds, e.g. 5 (the default).' });
  const host = (env['HOST'] ?? '').trim() || SERVICE_DEFAULTS.HOST;
  if (!isHostOrAddress(host)) problems.push({ setting: 'HOST', problem: `"${host}" is not an IP address or a host name.`, fix: 'use an address of this machine, e.g. 127.0.0.1 (the default), 0.0.0.0 for every IPv4 interface, or :: for every interface.' });
  const rawPort = (env['PORT'] ?? '').trim();
  const port = rawPort === '' ? SERVICE_DEFAULTS.PORT : /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : -1;
  if (port < 0 || port > 65535) problems.push({ setting: 'PORT', problem: `"${rawPort}" is not a port number.`, fix: 'use a whole number from 0 to 65535 (0 picks a free port).' });
  const logStream = loadLogStreamSettings(env, problems);
  const tls = loadServiceTls(env, problems);
  const metricsToken = (env['METRICS_TOKEN'] ?? '').trim() || null;
  if (metricsToken !== null && (metricsToken.length < 16 || /\s/.test(metricsToken))) {
    problems.push({ setting: 'METRICS_TOKEN', problem: 'is shorter than 16 characters or contains spaces.', fix: 'use a long random value, e.g. the output of "openssl rand -hex 24", or leave it empty.' });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { schedule, pollIntervalMs: poll * 1000, host, port, logStream, tls, metricsToken };
}

/** An IP literal, or a host name of RFC 1123 labels (a name of digits and dots alone must be an IPv4 address). */
function isHostOrAddress(host: string): boolean {
  if (isIP(host) !== 0) return true;
  if (/^[\d.]+$/.test(host)) return false;
  return host.length <= 253 && host.split('.').every((label) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

function isLoopback(host: string): boolean {
  const address = host.toLowerCase().replace(/^::ffff:/, '');
  return address === 'localhost' || address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/** The warning `serve` prints when anyone beyond this machine could trigger runs; null when none is due. */
export function exposureWarning(host: string, adminToken: string | null): string | null {
  if (adminToken !== null || isLoopback(host)) return null;
  return `no ADMIN_TOKEN is set while listening on ${host}: anyone who can reach this port can trigger runs (limited to one per 30 s) and read run counts. Set ADMIN_TOKEN.`;
}

export async function serve(env: Environment): Promise<number> {
  let config: Config;
  let settings: ServiceSettings;
  {
    const problems: SettingProblem[] = [];
    let parsed: Config | undefined;
    let service: ServiceSettings | undefined;
    try {
      parsed = loadConfig(env, 'standalone');
    } catch (error) {
      if (!isConfigError(error)) throw error;
      problems.push(...error.problems);
    }
    try {
      service = loadServiceSettings(env);
    } catch (error) {
      if (!isConfigError(error)) throw error;
      problems.push(...error.problems);
    }
    if (problems.length > 0 || !parsed || !service) {
      process.stderr.write(`${new ConfigError(problems).message}\n`);
      return 2;
    }
    config = parsed;
    settings = service;
  }

  const redact = createRedactor([...secretValues(config), settings.logStream.token ?? undefined, settings.metricsToken ?? undefined]);
  // The dashboard's live view follows the same redacted lines as stderr.
  const progress = new ProgressFeed();
  const log = createLogger({ redact, onLine: (line) => progress.push(line) });
  const store = createStandaloneStore(config, log);
  const metrics = new PrometheusMetrics();
  try {
    metrics.restore(await store.read());
  } catch {
    // Unreadable state is reported by the first run, with its fix.
  }
  const shutdown = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  const track = (run: Promise<unknown>): void => {
    inFlight.add(run);
    run.finally(() => inFlight.delete(run)).catch(() => undefined);
  };
  // One record of shipped ids for the poller and the log stream, with holds so that neither ships what the other is shipping.
  const shipped = new HoldingShippedIds(store);
  const adapt = (c: Config) => createAdapters(c, { store, shipped, log, metrics });
  const stream = createLogStream(config, settings.logStream, log, shipped, metrics, store);
  // Judged from the shared state at each scrape, so every replica's gauge says what the alert rules decide.
  if (stream) metrics.watchStream(async () => stream.snapshot((await store.read().catch(() => null))?.streamActivity).status);
  // Take-backs no run could write (the database unreachable throughout): retried until recorded.
  const pendingTakeBacks = new PendingTakeBacks(log);
  metrics.watchReship(() => rangesWaiting(store, pendingTakeBacks));
  const runOptions = {
    signal: shutdown.signal,
    pendingTakeBacks,
    ...(stream ? {
      logStream: {
        pollerRan: (report: RunReport) => stream.activity.pollerRan(report),
        judge: (shared: SharedStreamActivity | null, report: RunReport, at: number) => stream.judgeAfterRun(shared, report.exported, at),
      },
    } : {}),
  };
  const following = settings.schedule === CONTINUOUS;
  /** Follow mode's next poll (epoch ms); null while a poll runs (and always with LOG_STREAM_ONLY). */
  let nextPollAt: number | null = null;

  const app = createApp({
    progress,
    scope: () => ({ config: () => config, store, shipped, log, createDeps: adapt, runOptions }),
    track,
    nextRunAt: () => (following ? (nextPollAt === null ? null : new Date(nextPollAt).toISOString()) : (cron?.nextRun()?.toISOString() ?? null)),
    // Without LOG_STREAM_TOKEN the route still answers: 404 LOG_STREAM_OFF, saying how to turn it on.
    logStream: { stream, log, metrics },
    metrics: { exposition: () => metrics.exposition(), token: settings.metricsToken },
    stopping: () => shutdown.signal.aborted,
  });

  const scheduled = async (): Promise<void> => {
    if (shutdown.signal.aborted) return;
    try {
      if ((await store.read()).paused) {
        log.info('scheduled run skipped: paused');
        return;
      }
      // A shutdown that began during the read: start nothing it would not wait for.
      if (shutdown.signal.aborted) return;
    } catch (error) {
      log.error(`scheduled run failed: ${(error as Error).message}`);
      return;
    }
    const adapters = adapt(config);
    const run = runExport(adapters.deps, config, { trigger: 'schedule', redact, ...runOptions });
    track(run);
    try {
      const result = await run;
      if (result.status !== 'ok') log.error(`scheduled run failed: ${result.error?.code ?? 'unknown'}`);
    } catch (error) {
      if (error instanceof RunInProgressError) log.info('scheduled run skipped: another run is in progress');
      else log.error(`scheduled run failed: ${(error as Error).message}`);
    } finally {
      adapters.dispose();
    }
  };
  // protect: a tick that comes while the previous scheduled run is still going is skipped, not queued.
  // LOG_STREAM_ONLY: no poller at all, so a gap in the stream stays a gap.
  // Paused until the port is ours: a service that cannot listen must not export headless.
  const cron = following ? null : new Cron(settings.schedule, { protect: true, paused: true }, () => scheduled());
  const prune = async (): Promise<void> => {
    try {
      const forgotten = await pruneShippedIds(shipped, Date.now(), (await store.read()).checkpoint, !settings.logStream.streamOnly);
      if (forgotten > 0) log.debug(`forgot ${forgotten} shipped ids past retention`);
    } catch (error) {
      log.warn(`could not prune the record of shipped ids: ${(error as Error).message}`);
    }
  };

  let server: Server;
  try {
    server = await new Promise((resolve, reject) => {
      const s: Server = settings.tls ? createHttpsServer({ cert: settings.tls.cert, key: settings.tls.key, minVersion: 'TLSv1.2' }, app) : createHttpServer(app);
      s.once('error', reject);
      s.listen(settings.port, settings.host, () => {
        s.off('error', reject);
        resolve(s);
      });
    });
  } catch (error) {
    // Nothing has run yet: say why in terms of the settings, release the store, and exit so a supervisor sees it.
    cron?.stop();
    await store.close().catch(() => undefined);
    log.error(`cannot listen on ${settings.host}:${settings.port} (HOST, PORT): ${(error as Error).message}. Nothing was exported.`);
    return 1;
  }
  if (!settings.logStream.streamOnly) cron?.resume();
  // Auth0's side of the stream, once the port is ours: its status read every LOG_STREAM_STATUS_SECONDS, alerted on, healed with LOG_STREAM_AUTO_RESUME.
  const watching = stream && settings.logStream.statusIntervalMs > 0
    ? startStreamWatch(config, stream.settings, { store, log, metrics, sinkHealth: () => metrics.sinkHealth() })
    : undefined;
  if (stream && watching) {
    stream.watchedBy(watching.watch);
    metrics.watchStreamStatus(() => watching.watch.snapshot().status, () => watching.watch.snapshot().autoResume.resumes);
  }
  const pruning = stream ? setInterval(() => void prune(), PRUNE_EVERY_MS) : undefined;
  pruning?.unref();
  const retrying = setInterval(() => {
    if (pendingTakeBacks.size > 0) void pendingTakeBacks.flush(store);
  }, TAKE_BACK_RETRY_MS);
  retrying.unref();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const scheme = settings.tls ? 'https' : 'http';
  const poller = settings.logStream.streamOnly
    ? 'poller off (LOG_STREAM_ONLY)'
    : cron === null
      ? `following the log, polling every ${settings.pollIntervalMs / 1000} s once caught up`
      : `schedule "${settings.schedule}", next run ${cron.nextRun()?.toISOString() ?? 'never'}`;
  log.info(`serving on ${scheme}://${settings.host}:${port}, ${poller}`);
  if (stream) log.info(`log stream: POST ${scheme}://<public host>${LOG_STREAM_PATH} (${settings.logStream.streamOnly ? 'stream only, no poller' : 'hybrid: the poller fills any gap'})`);
  if (watching) log.info(`log stream status: read from Auth0 every ${settings.logStream.statusIntervalMs / 1000} s (LOG_STREAM_STATUS_SECONDS)${settings.logStream.autoResume ? '; a paused or suspended stream is set active again once Papertrail confirms deliveries (LOG_STREAM_AUTO_RESUME)' : ''}`);
  // LOG_STREAM_ONLY: no follow loop either, as no cron runs.
  if (following && !settings.logStream.streamOnly) {
    track(followService({ config, store, shipped, metrics, log, clock: systemClock, pollIntervalMs: settings.pollIntervalMs, runOptions: { redact, ...runOptions }, signal: shutdown.signal, onNextPoll: (at) => (nextPollAt = at) }));
  }

  const exposed = exposureWarning(settings.host, config.adminToken);
  if (exposed !== null) log.warn(exposed);

  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      if (shutdown.signal.aborted) return;
      log.info(`${signal}: shutting down; finishing the page in flight, starting no other`);
      cron?.stop();
      if (pruning) clearInterval(pruning);
      clearInterval(retrying);
      shutdown.abort();
      // Live views would hold the listener open: end them; the browser's retry finds the service gone.
      progress.close();
      if (watching) track(watching.stop());
      // Requests in progress (log-stream deliveries) are answered before the service exits.
      if (stream) track(new Promise<void>((done) => server.close(() => done())));
      else server.close();
      server.closeIdleConnections();
      const grace = setTimeout(() => {
        log.warn('shutdown grace period over; the unfinished page was not saved and will be shipped by the next run');
        server.closeAllConnections();
        resolve(0);
      }, SHUTDOWN_GRACE_MS);
      grace.unref();
      Promise.allSettled([...inFlight]).then(async () => {
        clearTimeout(grace);
        // Every delivery is answered: release the connection the stream kept for its next shipment.
        await stream?.close().catch(() => undefined);
        // What is left is idle or being turned away (503, Connection: close): nothing to wait for.
        server.closeAllConnections();
        await store.close().catch(() => undefined);
        log.info('stopped');
        resolve(0);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/**
 * The log stream, when LOG_STREAM_TOKEN is set: deliveries share the
 * poller's record of shipped ids, and shipments (group-commit.ts) on a sink
 * that lives from one to the next.
 */
function createLogStream(config: Config, settings: LogStreamSettings, log: ReturnType<typeof createLogger>, shipped: ShippedIds, metrics: Metrics, store: StateStore): LogStream | undefined {
  const { token } = settings;
  if (token === null) return undefined;
  // A sink opened after a failure resumes the TLS session of the one before: most of a handshake's cost.
  const sessions = new TlsSessionCache();
  // Measured like the poller's: a receiver that fails the stream shows in sink_failures_total.
  const openSink = (): LogSink => measuredSink(new TlsSyslogSink({ host: config.papertrail.host, port: config.papertrail.port, clock: systemClock, sessions }), metrics);
  return new LogStream({ shipped, openSink, clock: systemClock, log, store }, config, { ...settings, token });
}
