// Structured logging: one JSON object per line when the output is not a terminal (for machines),
// a short readable line when it is (for people). Debug logging of every message must cost nothing
// when disabled, so callers check `logger.enabled('debug')` before building fields.
import { inspect } from 'node:util';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
type Fields = Record<string, unknown>;

export interface Logger {
  enabled(level: LogLevel): boolean;
  debug(event: string, fields?: Fields): void;
  info(event: string, fields?: Fields): void;
  warn(event: string, fields?: Fields): void;
  error(event: string, fields?: Fields): void;
  /** A logger that adds `fields` to every line (e.g. the component or peer name). */
  child(fields: Fields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Readable lines instead of JSON; defaults to whether the stream is a terminal. */
  pretty?: boolean;
  now?: () => Date;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions = {}, bound: Fields = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const pretty = options.pretty ?? Boolean(stream.isTTY);
  const now = options.now ?? (() => new Date());
  const enabled = (level: LogLevel) => LOG_LEVELS.indexOf(level) >= threshold && level !== 'silent';
  const write = (level: LogLevel, event: string, fields: Fields = {}) => {
    if (!enabled(level)) return;
    const all = { ...bound, ...fields };
    const time = now();
    stream.write(pretty ? prettyLine(time, level, event, all) : jsonLine(time, level, event, all));
  };
  return {
    enabled,
    debug: (event, fields) => write('debug', event, fields),
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/** A logger that drops everything: for tests and library use without output. */
export const silentLogger: Logger = createLogger({ level: 'silent' });

function jsonLine(time: Date, level: LogLevel, event: string, fields: Fields): string {
  return `${JSON.stringify({ time: time.toISOString(), level, event, ...fields }, errorReplacer)}\n`;
}

function prettyLine(time: Date, level: LogLevel, event: string, fields: Fields): string {
  const clock = time.toISOString().slice(11, 23);
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : inspect(v, { breakLength: Infinity, depth: 3 })}`)
    .join(' ');
  return `${clock} ${level.toUpperCase().padEnd(5)} ${event}${rest ? ` ${rest}` : ''}\n`;
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}
