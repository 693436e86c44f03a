import type { Config } from '../../src/config';
import { Auth0ApiError, OutOfTimeError, SinkError } from '../../src/errors';
import { noMetrics } from '../../src/ports';
import { runOnce, type RunDeps } from '../../src/run-once';
import { SHIPMENT_BOUNDS, type GroupLimits } from '../../src/stages/group-pages';
import { emptyState } from '../../src/storage/state';
import { CapturingLogger, FakeAuth0, FakeClock, logId, makeLogs, MemoryShippedIds, MemoryStore, RecordingSink } from '../support/fakes';
import { HoldingShippedIds } from '../../src/storage/holding-shipped-ids';
import { RunLease } from '../../src/storage/run-lease';
import { takeLease } from '../../src/storage/state';

/** README, Storage: the record of shipped ids holds the ids shipped in the last 3 days. */
const README_SHIPPED_IDS_KEPT_MS = 3 * 24 * 3600 * 1000;

function config(overrides: Partial<Config> = {}): Config {
  return {
    auth0: { domain: 'tenant.auth0.com', clientId: 'id', clientSecret: 'secret' },
    papertrail: { host: 'logs.example.com', port: 1234, system: 'auth0-logs', program: 'auth0', token: null },
    batchSize: 10,
    pagesPerShipment: 1,
    filter: { minLevel: null, types: null },
    startFrom: null,
    storageFile: 'unused',
    stateUrl: null,
    legacyStateFile: 'unused',
    maxRunMs: 60_000,
    leaseMs: 30_000,
    adminToken: null,
    alerts: { webhookUrl: null, sendSuccess: false, lagThresholdMs: 3_600_000 },
    warnings: [],
    ...overrides,
  };
}

/** Without limits, the run takes them from its config (PAGES_PER_SHIPMENT, by default 1). */
function setup(logCount: number, state = emptyState(), limits?: GroupLimits) {
  const deps = { store: new MemoryStore(state), auth0: new FakeAuth0(makeLogs(logCount)), sink: new RecordingSink(), clock: new FakeClock(), log: new CapturingLogger() };
  return { deps, run: (c: Config = config()) => runOnce(deps as RunDeps, c, undefined, limits) };
}

const idOf = (line: string): string => (JSON.parse(line.slice(line.indexOf('{'))) as { log_id: string }).log_id;

describe('runOnce', () => {
  it('ships every page in order and saves the checkpoint after each', async () => {
    const { deps, run } = setup(25);
    const report = await run();
    expect(report).toMatchObject({ status: 'ok', fetched: 25, exported: 25, pages: 3, stoppedBy: 'caught-up', checkpoint: logId(25) });
    expect(deps.sink.lines.map(idOf)).toEqual(makeLogs(25).map((l) => l.log_id));
    expect(deps.store.state.checkpoint).toBe(logId(25));
    // one write per shipped page
    expect(deps.store.writes).toBe(3);
    expect(deps.sink.closed).toBe(1);
  });

  it('starts at the oldest retained log in checkpoint mode when there is no checkpoint', async () => {
    const { deps, run } = setup(3);
    const report = await run();
    expect(report.startSource).toBe('oldest-retained');
    const first = deps.auth0.requests[0]?.from ?? '';
    expect(first).toMatch(/^900\d{14}0{39}$/);
    // 31 days before the fake clock's now
    expect(first.slice(3, 17)).toBe('20261023120000');
  });

  it('resumes after the stored checkpoint', async () => {
    const { deps, run } = setup(20, { ...emptyState(), checkpoint: logId(15) });
    const report = await run();
    expect(report).toMatchObject({ startSource: 'checkpoint', startCheckpoint: logId(15), exported: 5, checkpoint: logId(20) });
    expect(deps.sink.lines.map(idOf)[0]).toBe(logId(16));
  });

  it('does nothing but one request when caught up', async () => {
    const { deps, run } = setup(5, { ...emptyState(), checkpoint: logId(5) });
    const report = await run();
    expect(report).toMatchObject({ status: 'ok', fetched: 0, pages: 0, stoppedBy: 'caught-up', checkpoint: logId(5) });
    expect(deps.auth0.requests).toHaveLength(1);
    expect(deps.sink.pages).toHaveLength(0);
  });

  it('advances the checkpoint over filtered-out logs, without sending them', async () => {
    const { deps, run } = setup(30);
    const report = await run(config({ filter: { minLevel: null, types: new Set(['f']) } }));
    expect(report).toMatchObject({ fetched: 30, exported: 10, filteredOut: 20, checkpoint: logId(30) });
    expect(deps.sink.lines).toHaveLength(10);
  });

  it('advances over a page in which every log is filtered out', async () => {
    const { deps, run } = setup(10);
    const report = await run(config({ filter: { minLevel: null, types: new Set(['gd_send_sms']) } }));
    expect(report).toMatchObject({ exported: 0, filteredOut: 10, checkpoint: logId(10) });
    expect(deps.store.state.checkpoint).toBe(logId(10));
  });

  it('records the ids it shipped, each page once a later send or the close confirmed it, and not those filtered out or unconfirmed', async () => {
    const { deps } = setup(40);
    const shipped = new MemoryShippedIds();
    const sendsWhenRecorded: number[] = [];
    const record = shipped.record.bind(shipped);
    shipped.record = async (ids, at) => {
      await record(ids, at);
      sendsWhenRecorded.push(deps.sink.pages.length);
    };
    deps.sink.failOnPage.set(3, new SinkError('receiver reset the connection', { code: 'SINK_RESET' }));
    const report = await runOnce({ ...deps, shipped } as RunDeps, config({ filter: { minLevel: null, types: new Set(['f']) } }));
    expect(report.status).toBe('failed');
    const exported = deps.sink.lines.map(idOf);
    expect([...shipped.shippedAt.keys()].sort()).toEqual([...exported].sort());
    expect(exported.length).toBeGreaterThan(0);
    // Page 1 recorded when page 2 was sent; page 2 (not in doubt: page 3 failed otherwise) after the close.
    expect(sendsWhenRecorded).toEqual([2, 2]);
  });

  it('forgets shipped ids older than the retention (3 days) at the end of a run, and keeps those within it', async () => {
    const { deps } = setup(10);
    const shipped = new MemoryShippedIds();
    await shipped.record(['old'], deps.clock.now() - README_SHIPPED_IDS_KEPT_MS - 1);
    await shipped.record(['recent'], deps.clock.now() - README_SHIPPED_IDS_KEPT_MS + 60_000);
    await runOnce({ ...deps, shipped } as RunDeps, config());
    expect(shipped.shippedAt.has('old')).toBe(false);
    expect(shipped.shippedAt.has('recent')).toBe(true);
    expect(shipped.shippedAt.size).toBe(11);
  });

  it('leaves the checkpoint at the last delivered page when the sink fails, and reports the failure', async () => {
    const { deps, run } = setup(40);
    deps.sink.failOnPage.set(3, new SinkError('receiver reset the connection', { code: 'SINK_RESET' }));
    const report = await run();
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ code: 'SINK_RESET', name: 'SinkError' });
    expect(report.checkpoint).toBe(logId(20));
    expect(deps.store.state.checkpoint).toBe(logId(20));
    expect(deps.sink.closed).toBe(1);
  });

  it('abandons the page it fetched ahead when the run fails, so no request outlives the run', async () => {
    const { deps, run } = setup(40);
    deps.sink.failOnPage.set(1, new SinkError('down', { code: 'SINK_UNREACHABLE' }));
    const report = await run();
    expect(report.status).toBe('failed');
    // The first page, the second fetched ahead, and at most one more while the first was shipping.
    expect(deps.auth0.signals.length).toBeGreaterThanOrEqual(2);
    expect(deps.auth0.signals.length).toBeLessThanOrEqual(3);
    expect(deps.auth0.signals.every((signal) => signal?.aborted === true)).toBe(true);
  });

  it('takes back the last page when the receiver went away right after confirming it', async () => {
    const { deps, run } = setup(40);
    deps.sink.failOnPage.set(3, new SinkError('receiver gone', { code: 'SINK_RECEIVER_GONE' }));
    const report = await run();
    expect(report).toMatchObject({ status: 'failed', error: { code: 'SINK_RECEIVER_GONE' }, checkpoint: logId(10) });
    expect(deps.store.state.checkpoint).toBe(logId(10));
    expect(report.takeBack).toEqual({ status: 'done', after: logId(10), through: logId(20) });
    expect(report.warnings.join(' ')).toContain('the checkpoint was moved back');
  });

  it('takes back every shipment the receiver went away around, not only the last, and records none of their ids as shipped', async () => {
    // A receiver whose shutdown is spread out: it dropped page 2 after confirming it, then confirmed page 3
    // before the sink saw it gone while sending page 4; the sink says the last two confirmed pages are in doubt.
    const { deps } = setup(40);
    const shipped = new MemoryShippedIds();
    deps.sink.failOnPage.set(4, new SinkError('receiver gone', { code: 'SINK_RECEIVER_GONE', inDoubt: 2 }));
    const report = await runOnce({ ...deps, shipped } as RunDeps, config());
    expect(report).toMatchObject({ status: 'failed', error: { code: 'SINK_RECEIVER_GONE' }, checkpoint: logId(10) });
    expect(report.takeBack).toEqual({ status: 'done', after: logId(10), through: logId(30) });
    expect(deps.store.state.checkpoint).toBe(logId(10));
    // Logs 11 to 30 may be lost at the receiver: recording them as shipped would make the next run skip them.
    expect([...shipped.shippedAt.keys()].filter((id) => id > logId(10))).toEqual([]);
    const again = await runOnce({ ...deps, shipped } as RunDeps, config());
    expect(again).toMatchObject({ status: 'ok', exported: 30, alreadyShipped: 0 });
    expect(deps.sink.lines.map(idOf).slice(30)).toEqual(makeLogs(40).slice(10).map((l) => l.log_id));
  });

  it('takes back the last page when the sink finds the receiver gone as it closes', async () => {
    const { deps, run } = setup(25);
    deps.sink.failOnClose = new SinkError('receiver gone', { code: 'SINK_RECEIVER_GONE' });
    const report = await run();
    expect(report).toMatchObject({ status: 'failed', checkpoint: logId(20) });
    expect(deps.store.state.checkpoint).toBe(logId(20));
    const again = await run();
    expect(again).toMatchObject({ status: 'ok', exported: 5 });
    // Nothing lost; the page in doubt (logs 21 to 25) went out twice, and nothing else did.
    const ids = deps.sink.lines.map(idOf);
    expect(new Set(ids).size).toBe(25);
    expect(ids).toHaveLength(30);
    expect(ids.slice(25)).toEqual([logId(21), logId(22), logId(23), logId(24), logId(25)]);
  });

  it('when the state store keeps failing to take the page back, reports it pending with its range, and still releases every held id', async () => {
    const { deps } = setup(25);
    const shipped = new HoldingShippedIds(new MemoryShippedIds());
    deps.sink.failOnClose = new SinkError('receiver gone', { code: 'SINK_RECEIVER_GONE' });
    const update = deps.store.update.bind(deps.store);
    let refused = 0;
    deps.store.update = async (change) => {
      // Every write after the last checkpoint save fails, as on a database that went away.
      if (deps.store.state.checkpoint === logId(25)) {
        refused++;
        throw new Error('database connection lost');
      }
      return update(change);
    };
    const report = await runOnce({ ...deps, shipped } as RunDeps, config());
    expect(report).toMatchObject({ status: 'failed', error: { code: 'SINK_RECEIVER_GONE' }, checkpoint: logId(25) });
    expect(report.takeBack).toEqual({ status: 'pending', after: logId(20), through: logId(25), reason: 'database connection lost' });
    expect(refused).toBeGreaterThanOrEqual(3);
    expect(report.warnings.join(' ')).toContain(`after log ${logId(20)} through ${logId(25)}`);
    expect(report.warnings.join(' ')).not.toContain('START_FROM');
    expect(shipped.holding).toBe(0);
    expect(deps.sink.closed).toBe(1);
  });

  it('retries a take-back whose first write fails, and reports it done only once written', async () => {
    const { deps } = setup(25);
    deps.sink.failOnClose = new SinkError('receiver gone', { code: 'SINK_RECEIVER_GONE' });
    const update = deps.store.update.bind(deps.store);
    let failures = 0;
    deps.store.update = async (change) => {
      if (deps.store.state.checkpoint === logId(25) && failures === 0) {
        failures++;
        throw new Error('read ECONNRESET');
      }
      return update(change);
    };
    const report = await runOnce(deps as RunDeps, config());
    expect(report.takeBack).toEqual({ status: 'done', after: logId(20), through: logId(25) });
    expect(report.checkpoint).toBe(logId(20));
    expect(deps.store.state.checkpoint).toBe(logId(20));
  });

  it('records the pages in doubt when another run moved the checkpoint on, and the next run ships them first', async () => {
    const { deps, run } = setup(25);
    deps.sink.failOnClose = new SinkError('receiver gone', { code: 'SINK_RECEIVER_GONE' });
    const update = deps.store.update.bind(deps.store);
    deps.store.update = async (change) => {
      // Another run saves a later checkpoint just before this one's take-back.
      if (deps.store.state.checkpoint === logId(25)) deps.store.state = { ...deps.store.state, checkpoint: logId(30) };
      return update(change);
    };
    const report = await runOnce(deps as RunDeps, config());
    deps.store.update = update;
    expect(report.takeBack).toEqual({ status: 'recorded', after: logId(20), through: logId(25) });
    expect(report.checkpoint).toBe(logId(25));
    expect(deps.store.state).toMatchObject({ checkpoint: logId(30), reship: { after: logId(20), through: logId(25) } });

    const sent = deps.sink.lines.length;
    const again = await run();
    expect(again.reshipped).toEqual({ after: logId(20), through: logId(25) });
    expect(deps.sink.lines.slice(sent).map(idOf)).toEqual([21, 22, 23, 24, 25].map(logId));
    expect(deps.store.state.reship).toBeNull();
  });

  it('stops at once with LEASE_LOST when another run takes the lease mid-run, and writes nothing more', async () => {
    const { deps } = setup(40, takeLease(emptyState(), 'this-run', Date.parse('2026-11-23T12:00:30.000Z')));
    const shipped = new MemoryShippedIds(deps.store);
    const lease = new RunLease({ store: deps.store, clock: deps.clock, log: deps.log, owner: 'this-run', generation: 1, ttlMs: 30_000 }, Date.parse('2026-11-23T12:00:30.000Z'));
    const send = deps.sink.send.bind(deps.sink);
    let sends = 0;
    deps.sink.send = async (lines) => {
      await send(lines);
      // While the second page is with the receiver, another run takes the lease (this one was frozen).
      if (++sends === 2) deps.store.state = takeLease(deps.store.state, 'other-run', Date.parse('2026-11-23T12:01:00.000Z'));
    };
    const report = await runOnce({ ...deps, shipped, lease } as RunDeps, config());
    expect(report).toMatchObject({ status: 'lease-lost', stoppedBy: 'lease-lost', error: { code: 'LEASE_LOST' }, pages: 1, checkpoint: logId(10) });
    // The page in flight was the last one shipped; its checkpoint was refused, and so was recording
    // the first page's ids, due once the second was confirmed (a duplicate at worst, never a loss).
    expect(deps.sink.pages).toHaveLength(2);
    expect(deps.store.state).toMatchObject({ checkpoint: logId(10), leaseGeneration: 2, lease: { owner: 'other-run' } });
    expect(shipped.shippedAt.size).toBe(0);
    expect(deps.log.lines.some((l) => l.startsWith('error run stopped: LEASE_LOST'))).toBe(true);
  });

  it('takes back nothing for other sink failures', async () => {
    const { deps, run } = setup(40);
    deps.sink.failOnPage.set(3, new SinkError('reset', { code: 'SINK_RESET' }));
    expect((await run()).checkpoint).toBe(logId(20));
  });

  it('delivers everything on the next run after a sink failure, with nothing skipped', async () => {
    const { deps, run } = setup(40);
    deps.sink.failOnPage.set(2, new SinkError('down'));
    await run();
    deps.sink.failOnPage.clear();
    const second = await run();
    expect(second.status).toBe('ok');
    expect(deps.sink.lines.map(idOf)).toEqual(makeLogs(40).map((l) => l.log_id));
  });

  it('leaves the checkpoint unchanged when Auth0 fails', async () => {
    const { deps, run } = setup(40, { ...emptyState(), checkpoint: logId(5) });
    deps.auth0.failOnRequest.set(2, new Auth0ApiError('Auth0 /api/v2/logs answered 403: Forbidden', { status: 403, retriable: false }));
    const report = await run();
    expect(report.status).toBe('failed');
    expect(report.checkpoint).toBe(logId(15));
    expect(deps.store.state.checkpoint).toBe(logId(15));
  });

  it('stops cleanly, as a success, when the rate limit would outlast the deadline', async () => {
    const { deps, run } = setup(40);
    deps.auth0.failOnRequest.set(3, new OutOfTimeError('Auth0 rate limit bucket is empty; it resets after this run\'s deadline'));
    const report = await run();
    expect(report).toMatchObject({ status: 'ok', stoppedBy: 'rate-limit', checkpoint: logId(20) });
    expect(report.warnings.join(' ')).toContain('rate limit');
  });

  it('stops starting pages before the deadline and saves what it shipped', async () => {
    const { deps, run } = setup(100);
    const clock = deps.clock;
    const send = deps.sink.send.bind(deps.sink);
    deps.sink.send = async (lines) => {
      clock.current += 2_000; // every page takes 2 s
      return send(lines);
    };
    const report = await run(config({ maxRunMs: 9_000 }));
    expect(report.stoppedBy).toBe('deadline');
    expect(report.status).toBe('ok');
    expect(report.durationMs).toBeLessThanOrEqual(9_000);
    expect(report.pages).toBeGreaterThan(0);
    expect(report.pages).toBeLessThan(10);
    expect(deps.store.state.checkpoint).toBe(report.checkpoint);
  });

  it('applies START_FROM once, even when it is behind the checkpoint', async () => {
    const { deps, run } = setup(30, { ...emptyState(), checkpoint: logId(25) });
    const first = await run(config({ startFrom: logId(10) }));
    expect(first).toMatchObject({ startSource: 'START_FROM', startCheckpoint: logId(10), exported: 20 });
    expect(deps.store.state.startFrom).toBe(logId(10));
    const second = await run(config({ startFrom: logId(10) }));
    expect(second).toMatchObject({ startSource: 'checkpoint', exported: 0 });
  });

  it('ships a START_FROM replay again, even logs recorded as shipped moments ago', async () => {
    const { deps } = setup(30);
    const shipped = new MemoryShippedIds();
    const withShipped = { ...deps, shipped } as RunDeps;
    expect(await runOnce(withShipped, config())).toMatchObject({ exported: 30 });
    expect(shipped.shippedAt.size).toBe(30);
    const replay = await runOnce(withShipped, config({ startFrom: logId(10) }));
    expect(replay).toMatchObject({ startSource: 'START_FROM', exported: 20, alreadyShipped: 0 });
    expect(deps.sink.lines.slice(30).map(idOf)).toEqual(makeLogs(30).slice(10).map((l) => l.log_id));
  });

  it('reports lag from the newest exported event date', async () => {
    const { run } = setup(5);
    const report = await run();
    // makeLogs dates start 1 h before the fake clock; the 5th is 4 s later
    expect(report.lagSeconds).toBe(3600 - 4);
  });

  it('prints a start line, one line per page and a summary', async () => {
    const { deps, run } = setup(15);
    await run();
    const lines = deps.log.lines;
    expect(lines[0]).toMatch(/^info run started: from 900\d+ \(oldest-retained\)/);
    expect(lines.filter((l) => l.startsWith('info page '))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^info run finished: 15 exported/);
  });
});

describe('runOnce, confirming groups of pages', () => {
  /** A receiver that takes 5 ms to confirm each shipment, while Auth0 answers at once: a backlog drain bound by the receiver. */
  const slowReceiver = <T extends { sink: RecordingSink }>(deps: T): T => {
    const send = deps.sink.send.bind(deps.sink);
    deps.sink.send = async (lines) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await send(lines);
    };
    return deps;
  };
  const grouped = (logCount: number, limits: Partial<GroupLimits> = {}, state = emptyState()) => {
    const made = setup(logCount, state, { pages: 10, ...SHIPMENT_BOUNDS, ...limits });
    slowReceiver(made.deps);
    return made;
  };

  it('with PAGES_PER_SHIPMENT=1, confirms each page alone, so a crash re-ships at most one batch', async () => {
    const { deps, run } = setup(35);
    const report = await run();
    expect(report).toMatchObject({ status: 'ok', exported: 35, pages: 4, checkpoint: logId(35) });
    expect(deps.sink.pages.map((p) => p.length)).toEqual([10, 10, 10, 5]);
    expect(deps.store.writes).toBe(4);
  });

  it('gathers full pages while a backlog drains, up to PAGES_PER_SHIPMENT, and ships the short last page at once', async () => {
    const { deps, run } = setup(35);
    slowReceiver(deps);
    const report = await run(config({ pagesPerShipment: 3 }));
    expect(report).toMatchObject({ status: 'ok', exported: 35, pages: 4, checkpoint: logId(35) });
    expect(deps.sink.pages.map((p) => p.length)).toEqual([30, 5]);
    expect(deps.store.writes).toBe(2);
  });

  it('gathers full pages into one shipment even when the receiver is free, so the shipment size does not depend on which side is faster', async () => {
    const { deps, run } = setup(35);
    // Auth0 is the slower side here (5 ms an answer): each page finds the receiver done with the previous one.
    const getLogs = deps.auth0.getLogs.bind(deps.auth0);
    deps.auth0.getLogs = async (query) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return getLogs(query);
    };
    const report = await run(config({ pagesPerShipment: 3 }));
    expect(report).toMatchObject({ status: 'ok', exported: 35, pages: 4 });
    expect(deps.sink.pages.map((p) => p.length)).toEqual([30, 5]);
  });

  it('counts every page of a shipment in the metrics, as the report does', async () => {
    const { deps } = setup(35);
    slowReceiver(deps);
    const saved: { pages: number; fetched: number }[] = [];
    const metrics = { ...noMetrics, shipmentSaved: (s: { pages: number; fetched: number }) => void saved.push(s) };
    const report = await runOnce({ ...deps, metrics } as RunDeps, config({ pagesPerShipment: 3 }));
    expect(saved.map((s) => s.pages)).toEqual([3, 1]);
    expect(saved.reduce((sum, s) => sum + s.pages, 0)).toBe(report.pages);
    expect(saved.reduce((sum, s) => sum + s.fetched, 0)).toBe(report.fetched);
  });

  it('confirms up to 10 pages per shipment while draining, and saves the checkpoint once per shipment', async () => {
    const { deps, run } = grouped(250);
    const report = await run();
    expect(report).toMatchObject({ status: 'ok', fetched: 250, exported: 250, pages: 25, checkpoint: logId(250) });
    expect(deps.sink.pages.map((p) => p.length)).toEqual([100, 100, 50]);
    expect(deps.sink.lines.map(idOf)).toEqual(makeLogs(250).map((l) => l.log_id));
    expect(deps.store.writes).toBe(3);
    expect(deps.log.lines.filter((l) => /^info pages? /.test(l))).toEqual([
      `info pages 1-10: fetched 100, exported 100, filtered out 0, checkpoint ${logId(100)}`,
      `info pages 11-20: fetched 100, exported 100, filtered out 0, checkpoint ${logId(200)}`,
      `info pages 21-25: fetched 50, exported 50, filtered out 0, checkpoint ${logId(250)}`,
    ]);
  });

  it('ships a short page at once and ends there: Auth0 had nothing newer, so neither time nor a request is spent waiting for more', async () => {
    const { deps, run } = grouped(15);
    const report = await run();
    expect(report).toMatchObject({ stoppedBy: 'caught-up', exported: 15, checkpoint: logId(15) });
    // The full first page waited for the second, which was short: both went at once.
    expect(deps.sink.pages.map((p) => p.length)).toEqual([15]);
    expect(deps.auth0.requests).toHaveLength(2);
  });

  it('still asks again after a full page, which may not be the last', async () => {
    const { deps, run } = grouped(20);
    await run();
    expect(deps.auth0.requests).toHaveLength(3);
  });

  it('bounds a shipment by size, so large events never pile up in memory', async () => {
    const { deps, run } = grouped(60, { chars: 1_500 });
    await run();
    expect(deps.sink.pages.length).toBeGreaterThan(1);
    expect(Math.max(...deps.sink.pages.map((p) => p.join('\n').length))).toBeLessThan(1_500 + 10 * 400);
    expect(deps.sink.lines.map(idOf)).toEqual(makeLogs(60).map((l) => l.log_id));
  });

  it('ships the pages it holds when the next page is slow to come, instead of holding them for it', async () => {
    const { deps, run } = grouped(40, { maxWaitMs: 20 });
    const getLogs = deps.auth0.getLogs.bind(deps.auth0);
    let shippedBeforeThirdAnswer: number | undefined;
    deps.auth0.getLogs = async (query) => {
      const answer = await getLogs(query);
      if (deps.auth0.requests.length === 3) {
        await new Promise((resolve) => setTimeout(resolve, 300)); // a rate-limit wait
        shippedBeforeThirdAnswer = deps.sink.lines.length;
      }
      return answer;
    };
    const report = await run();
    expect(report).toMatchObject({ status: 'ok', exported: 40 });
    expect(shippedBeforeThirdAnswer).toBe(20);
  });

  it('ships and saves the pages already fetched when Auth0 then fails', async () => {
    const { deps, run } = grouped(40);
    deps.auth0.failOnRequest.set(3, new Auth0ApiError('Auth0 /api/v2/logs answered 403: Forbidden', { status: 403, retriable: false }));
    const report = await run();
    expect(report).toMatchObject({ status: 'failed', checkpoint: logId(20), exported: 20 });
    expect(deps.store.state.checkpoint).toBe(logId(20));
  });

  it('keeps the checkpoint before a shipment that fails, and delivers it all on the next run', async () => {
    const { deps, run } = grouped(250);
    deps.sink.failOnPage.set(2, new SinkError('reset', { code: 'SINK_RESET' }));
    const report = await run();
    expect(report).toMatchObject({ status: 'failed', checkpoint: logId(100) });
    expect(deps.store.state.checkpoint).toBe(logId(100));
    deps.sink.failOnPage.clear();
    expect(await run()).toMatchObject({ status: 'ok', exported: 150 });
    expect(new Set(deps.sink.lines.map(idOf)).size).toBe(250);
  });

  it('takes back the whole last shipment when the receiver went away right after confirming it', async () => {
    const { deps, run } = grouped(250);
    deps.sink.failOnPage.set(3, new SinkError('receiver gone', { code: 'SINK_RECEIVER_GONE' }));
    const report = await run();
    // Shipments: pages 1-10, 11-20, then the third finds the receiver gone: pages 11-20 are taken back.
    expect(report).toMatchObject({ status: 'failed', checkpoint: logId(100), takeBack: { status: 'done', after: logId(100), through: logId(200) } });
    expect(deps.store.state.checkpoint).toBe(logId(100));
  });
});

describe('saveCheckpoint', () => {
  it('never moves the checkpoint backwards, even when a slower writer saves an older page', async () => {
    const { saveCheckpoint } = await import('../../src/stages/save-checkpoint');
    const store = new MemoryStore({ ...emptyState(), checkpoint: logId(50) });
    await saveCheckpoint(store, logId(40), null);
    expect(store.state.checkpoint).toBe(logId(50));
    await saveCheckpoint(store, logId(60), null);
    expect(store.state.checkpoint).toBe(logId(60));
  });
});
