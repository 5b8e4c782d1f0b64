// The server's command line: every flag with its default and meaning in one table, from which both
// the parser and --help are made, so the two cannot disagree.
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../log/index.js';
import { MAX_DATAGRAM_BYTES, MAX_UDP_PAYLOAD, MIN_DATAGRAM_BYTES } from '../protocol/index.js';
import { DEFAULT_STORE_URL } from '../stores/index.js';
import { ServerError } from './errors.js';
import { DEFAULT_RATE_LIMIT } from './rate-limit.js';

export interface ServerFlags {
  help: boolean;
  host: string;
  port: number;
  db: string;
  maxDatagram: number;
  logLevel: LogLevel;
  expireAfterMs: number;
  rate: number;
  burst: number;
  workers: number;
}

const FLAGS = {
  'host': { default: '0.0.0.0', help: 'address to listen on; :: for dual stack (IPv6 and IPv4)' },
  'port': { default: '4000', help: 'UDP port; 0 picks a free one (the start line says which)' },
  'db': { default: DEFAULT_STORE_URL, help: 'registry store: sqlite://PATH, postgresql://…, redis://…, mysql://…, memory://NAME' },
  'max-datagram': { default: String(MAX_DATAGRAM_BYTES), help: `largest datagram accepted or sent, in bytes (${MIN_DATAGRAM_BYTES} to ${MAX_UDP_PAYLOAD}); longer lists are paged` },
  'log-level': { default: 'info', help: `${LOG_LEVELS.join(', ')}; debug logs every datagram received and sent` },
  'expire-after': { default: '5m', help: 'expire registrations not heard from for this long (e.g. 90s, 5m, 1h); 0 never' },
  'rate': { default: String(DEFAULT_RATE_LIMIT.perSecond), help: 'datagrams per second one source IP may send; 0 turns limiting off' },
  'burst': { default: String(DEFAULT_RATE_LIMIT.burst), help: 'datagrams one source IP may send at once' },
  'workers': { default: '1', help: 'server processes sharing the one UDP port (node:cluster), each on the shared registry: needs --db postgresql://…' },
} as const;

export const SERVER_USAGE = [
  'Usage: tsx scripts/server.ts [flags]',
  '',
  'The P2FS index server: peers register, publish and search over UDP (JSON, one object per datagram).',
  '',
  ...Object.entries(FLAGS).map(([name, flag]) => `  --${`${name} VALUE`.padEnd(20)} ${flag.help} (default: ${flag.default})`),
  `  --${'help'.padEnd(20)} show this text`,
  '',
  'Signals: SIGUSR1 logs a summary line; SIGINT/SIGTERM stop cleanly (a second one exits at once).',
].join('\n');

/** Parses argv (without node and the script); throws ServerError BAD_OPTION naming the flag and the rule. */
export function parseServerFlags(argv: readonly string[]): ServerFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }]));
    ({ values } = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new ServerError('BAD_OPTION', (error as Error).message);
  }
  const text = (name: keyof typeof FLAGS): string => (values[name] as string | undefined) ?? FLAGS[name].default;
  const host = text('host');
  if (!isIP(host)) throw new ServerError('BAD_OPTION', `--host must be an IP address such as 0.0.0.0, :: or 127.0.0.1, got ${JSON.stringify(host)}`);
  const logLevel = text('log-level');
  if (!isLogLevel(logLevel)) throw new ServerError('BAD_OPTION', `--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  return {
    help: values.help === true,
    host,
    port: integer('port', text('port'), 0, 65_535),
    db: text('db'),
    maxDatagram: integer('max-datagram', text('max-datagram'), MIN_DATAGRAM_BYTES, MAX_UDP_PAYLOAD),
    logLevel,
    expireAfterMs: duration('expire-after', text('expire-after')),
    rate: integer('rate', text('rate'), 0, 1e9),
    burst: integer('burst', text('burst'), 1, 1e9),
    workers: integer('workers', text('workers'), 1, 256),
  };
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ServerError('BAD_OPTION', `--${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

function duration(flag: string, value: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
  const ms = match ? Number(match[1]) * UNIT_MS[(match[2] ?? 's') as keyof typeof UNIT_MS] : NaN;
  if (!Number.isSafeInteger(ms) || ms > 2 ** 31 - 1) {
    throw new ServerError('BAD_OPTION', `--${flag} must be a duration such as 90s, 5m or 1h (a bare number is seconds; 0 never), got ${JSON.stringify(value)}`);
  }
  return ms;
}
