// What every peer command shares: the flags for the server, identity, retries and output, and how
// they become PeerOptions and a logger.
import { DEFAULT_ATTEMPTS, DEFAULT_FIRST_TIMEOUT_MS, DEFAULT_MAX_TIMEOUT_MS, type RetryPolicy, type ServerAddress } from '../client/index.js';
import { createLogger, isLogLevel, LOG_LEVELS, type Logger, type LogLevel } from '../log/index.js';
import type { PeerOptions } from '../peer/peer.js';
import { UsageError } from './errors.js';
import { parseBindPort, parseCount, parseDuration, parseIp, parseServers, type FlagValues } from './flags.js';

/** The environment variable that stands in for --server. */
export const SERVER_ENV = 'P2FS_SERVER';

export const COMMON_FLAGS = {
  server: {
    value: 'HOST:PORT[,…]',
    help: `the index server (port 4000 if left out; default $${SERVER_ENV}); several, comma-separated, for servers of one registry: the next takes over when one stops answering`,
    parse: parseServers,
  },
  name: { value: 'NAME', help: "this peer's name: 1 to 32 letters, digits, '.', '_' or '-'" },
  verbose: { short: '-v', help: 'report every message sent and received' },
  json: { help: 'machine-readable output: JSON instead of text' },
  retries: { value: 'N', help: `resend an unanswered request up to N times (default ${DEFAULT_ATTEMPTS - 1})`, parse: parseCount },
  timeout: { value: 'MS', help: `first wait for the server's answer, doubling up to ${DEFAULT_MAX_TIMEOUT_MS / 1000} s (default ${DEFAULT_FIRST_TIMEOUT_MS}ms)`, parse: parseDuration },
  'log-level': { value: 'LEVEL', help: `${LOG_LEVELS.join(', ')} (default warn)`, parse: parseLogLevel },
  help: { short: '-h', help: 'show this help' },
};

export const NETWORK_FLAGS = {
  host: { value: 'IP', help: 'the IP other peers reach this one at (default: the local address that reaches the server)', parse: parseIp },
  'tcp-port': { value: 'P', help: 'serve files on this TCP port (default any free one)', parse: parseBindPort },
  'udp-port': { value: 'P', help: 'talk to the server from this UDP port (default any free one)', parse: parseBindPort },
};

type CommonFlags = FlagValues<typeof COMMON_FLAGS> & Partial<FlagValues<typeof NETWORK_FLAGS>>;

export function serverFrom(flags: CommonFlags, env: NodeJS.ProcessEnv = process.env): ServerAddress[] {
  if (flags.server) return flags.server;
  const fromEnv = env[SERVER_ENV];
  if (fromEnv) return parseServers(fromEnv, `$${SERVER_ENV}`);
  throw new UsageError(`--server HOST:PORT is required (or set ${SERVER_ENV})`);
}

export function retryFrom(flags: CommonFlags): Partial<RetryPolicy> {
  return {
    ...(flags.retries === undefined ? {} : { attempts: flags.retries + 1 }),
    ...(flags.timeout === undefined ? {} : { firstTimeoutMs: flags.timeout }),
  };
}

export function loggerFrom(flags: CommonFlags, role: string): Logger {
  return createLogger({ level: flags['log-level'] ?? 'warn', stream: process.stderr }).child({ role });
}

/** The PeerOptions every command builds from the shared flags. */
export function peerOptionsFrom(flags: CommonFlags, role: string): PeerOptions {
  return {
    server: serverFrom(flags),
    ...(flags.name === undefined ? {} : { name: flags.name }),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(flags['tcp-port'] === undefined ? {} : { tcpPort: flags['tcp-port'] }),
    ...(flags['udp-port'] === undefined ? {} : { udpPort: flags['udp-port'] }),
    retry: retryFrom(flags),
    logger: loggerFrom(flags, role),
  };
}

/**
 * Resolves at the first SIGINT or SIGTERM; a second one exits at once (130), for a person who does
 * not want to wait for the de-registration to time out.
 */
export function untilStopSignal(onSecond: () => void = () => process.exit(130)): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) return onSecond();
      received = true;
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

function parseLogLevel(text: string, flag: string): LogLevel {
  if (!isLogLevel(text)) throw new UsageError(`${flag} must be one of ${LOG_LEVELS.join(', ')}; got "${text}"`);
  return text;
}
