/**
 * The program's own progress lines: to stderr for the CLI and `serve` (stdout
 * carries the JSON report), and to the console under webtask, where the
 * realtime logs show console output: console.log / console.warn /
 * console.error themselves (winston's `forceConsole`), not the process's
 * stdout beneath them, which a platform that captures the console may not see.
 * Every line is redacted first; `onLine` gets the same redacted lines (the
 * service's live view on the dashboard).
 *
 * The stderr lines are written here directly, `<ISO time> <level> <message>`:
 * loading winston took 50 to 200 ms of every run's start-up, and a run's
 * start-up counts against Auth0's rate limit (at Enterprise's 16 requests a
 * second, every 0.1 s before the first request is 0.3 % of a drain's ceiling).
 * winston stays for the webtask console, loaded only there.
 */
import type { Logger } from '../ports';
import type { Redactor } from './redact';

export type Level = 'error' | 'warn' | 'info' | 'debug';

/** One progress line as written (already redacted). */
export interface ProgressLine {
  at: string;
  level: Level;
  message: string;
}

/** winston's npm levels, of which these four are used: a line is written when its rank is at most the threshold's. */
const RANK: Record<string, number> = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 };

export function createLogger(options: { redact: Redactor; level?: string; stream?: 'stderr' | 'console'; onLine?: (line: ProgressLine) => void }): Logger {
  const threshold = RANK[options.level ?? 'info'] ?? RANK['info'];
  let write: (level: Level, at: string, message: string) => void;
  if (options.stream === 'console') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only by the extension, which logs to the console
    const winston = require('winston') as typeof import('winston');
    const logger = winston.createLogger({
      level: options.level ?? 'info',
      transports: [new winston.transports.Console({
        forceConsole: true, stderrLevels: ['error'], consoleWarnLevels: ['warn'],
        format: winston.format.printf((info) => `${info.level}: ${String(info.message)}`),
      })],
    });
    write = (level, _at, message) => logger.log(level, message);
  } else {
    write = (level, at, message) => {
      process.stderr.write(`${at} ${level} ${message}\n`);
    };
  }
  const at = (level: Level) => (message: string) => {
    if ((RANK[level] as number) > (threshold as number)) return;
    const line = { at: new Date().toISOString(), level, message: options.redact(message) };
    write(level, line.at, line.message);
    options.onLine?.(line);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
