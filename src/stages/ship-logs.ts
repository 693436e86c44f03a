import type { Auth0Log } from '../auth0/auth0-log';
import type { LogSink } from '../ports';
import { formatLog, type FormatOptions } from './format-log';

export interface ShipResult {
  exported: number;
  truncated: number;
  /** `date` of the newest event shipped, for lag. */
  newestDate: string | null;
}

/** Formats and sends one page; resolves only once the sink confirms delivery. */
export async function shipLogs(sink: LogSink, logs: readonly Auth0Log[], options: FormatOptions): Promise<ShipResult> {
  let truncated = 0;
  let newest = Number.NEGATIVE_INFINITY;
  let newestDate: string | null = null;
  const lines = logs.map((log) => {
    const formatted = formatLog(log, options);
    if (formatted.truncated) truncated++;
    const ms = typeof log.date === 'string' ? Date.parse(log.date) : Number.NaN;
    if (ms > newest) {
      newest = ms;
      newestDate = log.date as string;
    }
    return formatted.line;
  });
  await sink.send(lines);
  return { exported: lines.length, truncated, newestDate };
}
