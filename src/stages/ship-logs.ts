/**
 * The ship stage's per-page half: a fetched page becomes the lines a shipment
 * carries. run-once.ts gathers pages into shipments and hands each to the sink;
 * a log-stream delivery's lines go to the stream's group commit.
 */
import type { Auth0Log } from '../auth0/auth0-log';
import { formatLog, type FormatOptions } from './format-log';

export interface FormattedPage {
  lines: string[];
  truncated: number;
  /** `date` of the newest event, for lag. */
  newestDate: string | null;
}

/** Formats a page of logs, each into one syslog line. */
export function formatLogs(logs: readonly Auth0Log[], options: FormatOptions): FormattedPage {
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
  return { lines, truncated, newestDate };
}
