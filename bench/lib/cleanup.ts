/**
 * Everything the bench starts (rsyslogd, the simulated tenant, CLI and worker
 * processes, temp dirs) is registered here as it starts. Scenarios release
 * their own resources in `finally` blocks; what is still registered when the
 * bench is interrupted or fails is released by `releaseAll`, newest first.
 */
type Release = () => Promise<void> | void;

interface Entry {
  name: string;
  release: Release;
}

const live = new Map<number, Entry>();
let nextId = 0;

/**
 * Registers a resource; the returned function releases it once (later calls
 * do nothing) and unregisters it, so a normal finally-path and the signal
 * path can never release the same thing twice.
 */
export function track(name: string, release: Release): () => Promise<void> {
  const id = nextId++;
  live.set(id, { name, release });
  return async () => {
    const entry = live.get(id);
    if (entry === undefined) return;
    live.delete(id);
    await entry.release();
  };
}

/** Releases whatever is still registered, newest first; failures are reported, not thrown. */
export async function releaseAll(): Promise<void> {
  const entries = [...live.entries()].reverse();
  live.clear();
  for (const [, { name, release }] of entries) {
    try {
      await release();
    } catch (error) {
      process.stderr.write(`bench: could not release ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}

/**
 * On SIGINT/SIGTERM: release everything, then exit 128+signal. A second
 * signal, or a release that hangs, ends the process at once; rsyslogd then
 * dies through the receiver helper's own exit hook and watchdog.
 */
export function releaseOnSignals(): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals, code: number): void => {
    if (stopping) process.exit(code);
    stopping = true;
    process.stderr.write(`\nbench: ${signal}, stopping everything it started…\n`);
    const force = setTimeout(() => process.exit(code), 20_000);
    force.unref();
    void releaseAll().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
}
