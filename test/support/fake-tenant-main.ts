/**
 * Runs the fake Auth0 tenant as its own process, for benchmarks and the demo:
 *
 *   npx tsx test/support/fake-tenant-main.ts --count 1000 [--rate-limit 10:1.67]
 *     [--failure-rate 0.2] [--latency 5] [--hostile-every 50] [--huge-every 0]
 *     [--token-ttl 3] [--seed 1] [--per-second 20] [--jitter 2000] [--grow 10:1000]
 *
 * Prints one JSON line {"url","domain","caFile","clientId","clientSecret"} on
 * stdout once listening (the parent reads it to connect), then serves until
 * SIGTERM or SIGINT. `--grow N:MS` appends N events every MS milliseconds, a
 * tenant that keeps producing logs while it is being exported.
 */
import { startFakeTenant, type FakeTenantOptions } from './fake-tenant';

function fail(message: string): never {
  process.stderr.write(`fake-tenant: ${message}\n`);
  process.exit(2);
}

function number(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(n)) fail(`${flag} needs a number, got ${String(value)}`);
  return n;
}

function pair(flag: string, value: string | undefined): [number, number] {
  const [a, b, extra] = (value ?? '').split(':');
  if (extra !== undefined) fail(`${flag} takes A:B`);
  return [number(flag, a), number(flag, b)];
}

async function main(): Promise<void> {
  const options: FakeTenantOptions = { count: 1000 };
  let grow: [number, number] | undefined;
  const args = process.argv.slice(2);
  for (let k = 0; k < args.length; k++) {
    const flag = args[k] as string;
    const value = args[++k];
    switch (flag) {
      case '--count': options.count = number(flag, value); break;
      case '--rate-limit': {
        const [limit, refillPerSecond] = pair(flag, value);
        options.rateLimit = { limit, refillPerSecond };
        break;
      }
      case '--failure-rate': options.failureRate = number(flag, value); break;
      case '--latency': options.latencyMs = number(flag, value); break;
      case '--hostile-every': options.hostileEvery = number(flag, value); break;
      case '--huge-every': options.hugeEvery = number(flag, value); break;
      case '--token-ttl': options.tokenTtlSeconds = number(flag, value); break;
      case '--seed': options.seed = number(flag, value); break;
      case '--per-second': options.perSecond = number(flag, value); break;
      case '--jitter': options.dateJitterMs = number(flag, value); break;
      case '--client-id': options.clientId = value ?? fail('--client-id needs a value'); break;
      case '--client-secret': options.clientSecret = value ?? fail('--client-secret needs a value'); break;
      case '--grow': grow = pair(flag, value); break;
      default: fail(`unknown option ${flag}`);
    }
  }

  const tenant = await startFakeTenant(options);
  const timer = grow ? setInterval(() => tenant.append((grow as [number, number])[0]), grow[1]) : undefined;

  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    if (timer) clearInterval(timer);
    tenant.stop().then(
      () => process.exit(0),
      (error: unknown) => fail(`stop failed: ${String(error)}`),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  process.stdout.write(
    `${JSON.stringify({ url: tenant.url, domain: tenant.domain, caFile: tenant.caFile, clientId: tenant.clientId, clientSecret: tenant.clientSecret })}\n`,
  );
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
