/**
 * Logging for the reconciler: JSON lines (one object per line, which journald
 * and log shippers take as is) or, on a terminal, short human-readable text.
 * Lines about a device carry `device` and `operation` fields, so one device's
 * history can be pulled out of a busy log with a single filter.
 */
import winston from 'winston';
import type { Writable } from 'node:stream';

export type LogFormat = 'json' | 'text' | 'auto';
export type Logger = winston.Logger;

export interface LoggerOptions {
  format: LogFormat;
  /** Where lines go: stdout for the daemon, stderr for one-shot commands whose stdout is their output. */
  stream: Writable & { isTTY?: boolean };
  level?: string;
}

const textLine = winston.format.printf((info) => {
  const { level, message, timestamp, device, operation } = info as Record<string, unknown>;
  const subject = typeof device === 'string' ? ` ${device}` : '';
  const verb = typeof operation === 'string' ? ` [${operation}]` : '';
  return `${String(timestamp)} ${String(level)}${subject}${verb}: ${String(message)}`;
});

export function createLogger(options: LoggerOptions): Logger {
  const text = options.format === 'text' || (options.format === 'auto' && options.stream.isTTY === true);
  return winston.createLogger({
    level: options.level ?? 'info',
    format: winston.format.combine(winston.format.timestamp(), text ? textLine : winston.format.json()),
    transports: [new winston.transports.Stream({ stream: options.stream })],
  });
}

/** A logger that drops everything, for library use and tests that assert on results instead. */
export function silentLogger(): Logger {
  return winston.createLogger({
    silent: true,
    transports: [new winston.transports.Console({ silent: true })],
  });
}
