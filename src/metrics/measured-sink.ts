/**
 * A LogSink that reports to Metrics how long each send (a run's shipment, or a
 * log-stream delivery) took to be confirmed and why a send or close failed;
 * the run loop stays unaware of metrics.
 */
import { performance } from 'node:perf_hooks';
import { SinkError } from '../errors';
import type { LogSink, Metrics } from '../ports';

export function measuredSink(sink: LogSink, metrics: Metrics): LogSink {
  const failed = (error: unknown): never => {
    metrics.sinkFailed(error instanceof SinkError ? error.code : 'UNEXPECTED');
    throw error;
  };
  return {
    async send(lines) {
      if (lines.length === 0) return sink.send(lines);
      const started = performance.now();
      await sink.send(lines).catch(failed);
      metrics.shipmentConfirmed(performance.now() - started);
    },
    close: () => sink.close().catch(failed),
    ...(sink.checkLastConfirmed ? { checkLastConfirmed: () => (sink.checkLastConfirmed as () => Promise<void>).call(sink).catch(failed) } : {}),
  };
}
