// The index server's command line (p2fs-server, scripts/server.ts): every flag with its variable,
// its default and its meaning in one table, read by the same parser as the peer's commands. No
// server code is loaded here, so --help and --version answer at once.
import { LOG_LEVELS } from '../log/index.js';
import { MAX_DATAGRAM_BYTES, MAX_UDP_PAYLOAD, MIN_DATAGRAM_BYTES } from '../protocol/limits.js';
import { DEFAULT_EXPIRE_AFTER_MS, DEFAULT_HOST, DEFAULT_PORT } from '../server/defaults.js';
import { DEFAULT_RATE_LIMIT } from '../server/rate-limit.js';
import { DEFAULT_STORE_URL } from '../stores/store-url.js';
import { UsageError } from './errors.js';
import { integerFrom, oneOf, parseBindPort, parseIp, parseListenAddress } from './flags.js';
import type { CommandSpec } from './program.js';

export const SERVER = {
  summary: 'The P2FS index server: peers register, publish and search over UDP (JSON, one object per datagram).',
  usage: '[--host IP] [--port PORT] [--db URL] [--metrics IP:PORT] [FLAGS]',
  notes: `Signals: SIGUSR1 logs a summary line; SIGINT, SIGTERM and SIGHUP stop cleanly: requests in
flight are answered and the store is closed (a second signal exits at once).
Exit codes: 0 stopped cleanly, 1 could not start (the store failed) or stop cleanly, 2 the command
line is wrong, or names a port or address this machine cannot listen on.`,
  flags: {
    host: { value: 'IP', env: 'P2FS_HOST', default: DEFAULT_HOST, help: 'address to listen on; :: for dual stack (IPv6 and IPv4)', parse: parseIp },
    port: { value: 'PORT', env: 'P2FS_PORT', default: String(DEFAULT_PORT), help: 'UDP port; 0 picks a free one (the start line says which)', parse: parseBindPort },
    db: { value: 'URL', env: 'P2FS_DB', default: DEFAULT_STORE_URL, help: 'registry store: sqlite://PATH, postgresql://…, redis://…, mysql://…, memory://NAME' },
    'max-datagram': {
      value: 'BYTES', default: String(MAX_DATAGRAM_BYTES), parse: integerFrom(MIN_DATAGRAM_BYTES, MAX_UDP_PAYLOAD),
      help: `largest datagram accepted or sent (${MIN_DATAGRAM_BYTES} to ${MAX_UDP_PAYLOAD}); longer lists are paged`,
    },
    'expire-after': { value: 'TIME', default: `${DEFAULT_EXPIRE_AFTER_MS / 60_000}m`, parse: parseExpiry, help: 'expire registrations not heard from for this long (90s, 5m, 1h); 0 never' },
    rate: { value: 'N', default: String(DEFAULT_RATE_LIMIT.perSecond), parse: integerFrom(0, 1e9), help: 'datagrams per second one source IP may send; 0 turns limiting off' },
    burst: { value: 'N', default: String(DEFAULT_RATE_LIMIT.burst), parse: integerFrom(1, 1e9), help: 'datagrams one source IP may send at once' },
    'log-level': { value: 'LEVEL', default: 'info', parse: oneOf(LOG_LEVELS), help: `${LOG_LEVELS.join(', ')}; debug logs every datagram received and sent` },
    workers: {
      value: 'N', default: '1', parse: integerFrom(1, 256),
      help: 'server processes sharing the one UDP port (node:cluster), each on the shared registry: needs --db postgresql://…',
    },
    metrics: { value: 'IP:PORT', parse: parseListenAddress, help: 'serve Prometheus metrics at http://IP:PORT/metrics and a health check at /healthz' },
  },
} satisfies CommandSpec;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `90s`, `5m`, `1h` (a bare number is seconds; 0 never expires), in milliseconds. */
function parseExpiry(text: string, flag: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text);
  const ms = match ? Number(match[1]) * UNIT_MS[(match[2] ?? 's') as keyof typeof UNIT_MS] : NaN;
  if (!Number.isSafeInteger(ms) || ms > 2 ** 31 - 1) {
    throw new UsageError(`${flag} must be a duration such as 90s, 5m or 1h (a bare number is seconds; 0 never); got "${text}"`);
  }
  return ms;
}
