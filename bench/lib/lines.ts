/** Syslog lines exactly as the product formats them, from the deterministic event generator. */
import { formatLog } from '../../src/stages/format-log';
import { eventAt, logIdAt, type GenerateOptions } from '../../test/support/events';

/** The CLI's defaults for PAPERTRAIL_SYSTEM and PAPERTRAIL_PROGRAM. */
export const FORMAT = { system: 'auth0-logs', program: 'auth0' } as const;

/** Generator options for pre-formatted lines: the defaults (fixed 2025 start), so every run ships the same bytes. */
export const LINE_EVENTS: GenerateOptions = {};

export function formattedLines(count: number): string[] {
  const lines = new Array<string>(count);
  for (let i = 0; i < count; i++) lines[i] = formatLog(eventAt(i, LINE_EVENTS), FORMAT).line;
  return lines;
}

export function lineIdAt(position: number): string {
  return logIdAt(position, LINE_EVENTS);
}

/** Mean bytes per frame, LF included. */
export function meanFrameBytes(lines: readonly string[]): number {
  let bytes = 0;
  for (const line of lines) bytes += Buffer.byteLength(line) + 1;
  return lines.length === 0 ? 0 : bytes / lines.length;
}
