/**
 * The program's own progress lines, through winston: to stderr for the CLI
 * (stdout carries the JSON report) and to the console under webtask, where
 * the realtime logs show console output.
 */
import winston from 'winston';
import type { Logger } from '../ports';
import type { Redactor } from './redact';

export function createLogger(options: { redact: Redactor; level?: string; stream?: 'stderr' | 'console' }): Logger {
  const line = winston.format.printf((info) => `${String(info['timestamp'])} ${info.level} ${String(info.message)}`);
  const transport =
    options.stream === 'console'
      ? new winston.transports.Console({ format: winston.format.printf((info) => `${info.level}: ${String(info.message)}`) })
      : new winston.transports.Stream({ stream: process.stderr });
  const logger = winston.createLogger({
    level: options.level ?? 'info',
    format: winston.format.combine(winston.format.timestamp(), line),
    transports: [transport],
  });
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string) => logger.log(level, options.redact(message));
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
