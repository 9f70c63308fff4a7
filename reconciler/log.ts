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
  /**
   * Lines go to journald (JOURNAL_STREAM is set): each starts with its
   * syslog priority, `<3>` error, `<4>` warning, `<6>` info, `<7>` debug,
   * which journald takes off and records, so `journalctl -p warning` works.
   */
  journal?: boolean;
}

/** sd-daemon(3) priority prefixes by winston level. */
const JOURNAL_PRIORITY: Readonly<Record<string, number>> = { error: 3, warn: 4, info: 6, debug: 7 };
const MESSAGE = Symbol.for('message');

const journalPriority = winston.format((info) => {
  const line = (info as unknown as Record<symbol, unknown>)[MESSAGE];
  const priority = JOURNAL_PRIORITY[info.level] ?? 6;
  (info as unknown as Record<symbol, unknown>)[MESSAGE] = `<${priority}>${String(line)}`;
  return info;
});

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
    format: winston.format.combine(
      winston.format.timestamp(),
      text ? textLine : winston.format.json(),
      ...(options.journal ? [journalPriority()] : []),
    ),
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
