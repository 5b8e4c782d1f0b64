// The index server as a library: startIndexServer() opens the registry store, loads it, binds the UDP
// socket and serves until close(). scripts/server.ts wraps it in flags and signals; tests start it
// through test/helpers/server.ts.
import { isIPv6 } from 'node:net';
import { silentLogger, type Logger } from '../log/index.js';
import { MAX_DATAGRAM_BYTES, MAX_UDP_PAYLOAD, MIN_DATAGRAM_BYTES } from '../protocol/index.js';
import { Registry, type RegistryStore } from '../registry/index.js';
import { DEFAULT_STORE_URL, openLedger, StoreError, type Ledger } from '../stores/index.js';
import { SoleWriterLedger } from '../stores/sole-writer-ledger.js';
import { Counters, statsOf, type ServerStats } from './counters.js';
import { DEFAULT_EXPIRE_AFTER_MS, DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';
import { ServerError } from './errors.js';
import { CallbackRelay } from './callbacks.js';
import { Answers } from './handlers.js';
import { unlistableReason } from './pages/paging.js';
import { DatagramPipeline } from './pipeline.js';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimit } from './rate-limit.js';
import { KeptPages } from './replies/kept-pages.js';
import { MutationReplyCache } from './replies/mutation-replies.js';
import { ReadReplyCache } from './replies/read-replies.js';
import { bindUdp, serveDatagrams } from './socket.js';

export { Answers, type AnswerParts } from './handlers.js';
export { ServerError, type ServerErrorCode } from './errors.js';
export { DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limit.js';
export { REPLY_CACHE_ENTRIES, REPLY_CACHE_LIFETIME_MS } from './replies/mutation-replies.js';
export { READ_REPLY_CACHE_BYTES, READ_REPLY_CACHE_ENTRIES } from './replies/read-replies.js';
export { RECEIVE_BUFFER_BYTES } from './socket.js';
export type { ServerStats } from './counters.js';
export { DEFAULT_STORE_URL };

export { DEFAULT_EXPIRE_AFTER_MS, DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';
/** How often the one-line summary is logged (also on SIGUSR1, through logSummary()). */
export const SUMMARY_INTERVAL_MS = 60_000;
/** How often rate-limit refusals are summarised: one line per interval, never one per datagram. */
const RATE_REPORT_INTERVAL_MS = 10_000;
/** Longest pause between expiry sweeps; shorter for short expiry times (a quarter of them). */
const MAX_SWEEP_INTERVAL_MS = 30_000;
/** A shared store is told a peer is alive at most this many times per expiry time (a third of it apart). */
const TELLS_PER_EXPIRY = 3;

export interface IndexServerOptions {
  /** Address to bind; `::` for dual stack. Default 0.0.0.0. */
  host?: string;
  /** UDP port; 0 picks a free one. Default 4000. */
  port?: number;
  /**
   * A store URL (opened and closed by the server): postgresql:// for a registry shared by several
   * servers, any other for one server alone. Or an open store or ledger (the caller closes it).
   */
  store?: RegistryStore | Ledger | string;
  /** Largest datagram accepted or sent, in bytes. Default 1200. */
  maxDatagram?: number;
  logger?: Logger;
  /** Milliseconds since the epoch, for expiry; injectable to test expiry without waiting. */
  clock?: () => number;
  /** Expire registrations not heard from for this long; 0 never expires. Default 5 minutes. */
  expireAfterMs?: number;
  /** Per-source-IP limit; perSecond 0 turns it off. Default 200/s, burst 400. */
  rateLimit?: RateLimit;
  /** CALLBACKs per requester IP (default CALLBACK_RATE: a burst of 20, then 5 a second). */
  callbackRate?: RateLimit;
  /** A worker of --workers N: receive on the socket the cluster's primary shares (see workers.ts). */
  sharedPort?: boolean;
  /** Told how long each write took the store to confirm, in seconds (the metrics' store latency). */
  onStoreWrite?: (seconds: number) => void;
}

/** What tests and tools may read of the registry (changes go through requests only). */
export type RegistryReader = Pick<Registry, 'snapshot' | 'peer' | 'names' | 'holdersOf' | 'peerCount' | 'fileCount' | 'description'>;

export interface IndexServer {
  readonly address: { host: string; port: number; family: 'IPv4' | 'IPv6' };
  readonly registry: RegistryReader;
  stats(): ServerStats;
  /** Logs the one-line summary now (the CLI calls it on SIGUSR1). */
  logSummary(): void;
  /** Expires stale registrations now (the server also does it on a timer); returns the names expired. */
  expireStale(): Promise<string[]>;
  /** Resolves once the store answers a read (the health check); rejects with the store's error. */
  checkStore(): Promise<void>;
  /** Stops receiving, lets in-flight requests finish and their replies go out, closes the store it opened. */
  close(): Promise<void>;
}

export async function startIndexServer(options: IndexServerOptions = {}): Promise<IndexServer> {
  const log = options.logger ?? silentLogger;
  const host = options.host ?? DEFAULT_HOST;
  const port = checkInteger('port', options.port ?? DEFAULT_PORT, 0, 65_535);
  const maxDatagram = checkInteger('maxDatagram', options.maxDatagram ?? MAX_DATAGRAM_BYTES, MIN_DATAGRAM_BYTES, MAX_UDP_PAYLOAD);
  const expireAfterMs = checkInteger('expireAfterMs', options.expireAfterMs ?? DEFAULT_EXPIRE_AFTER_MS, 0, 2 ** 31 - 1);
  const rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  checkInteger('rateLimit.perSecond', rateLimit.perSecond, 0, 1e9);
  checkInteger('rateLimit.burst', rateLimit.burst, rateLimit.perSecond > 0 ? 1 : 0, 1e9);

  const settings = { 'expire-after-ms': String(expireAfterMs), 'max-datagram': String(maxDatagram) };
  const { store: opened, owned } = await openRegistryStore(options.store ?? DEFAULT_STORE_URL, log, settings);
  const ledger = 'commit' in opened ? opened : new SoleWriterLedger(opened);
  const store = options.onStoreWrite ? timedCommits(ledger, options.onStoreWrite) : ledger;
  let registry: Registry;
  try {
    registry = await Registry.open(store, {
      clock: options.clock,
      logger: log,
      entryRule: unlistableReason(maxDatagram),
      // A shared store expires peers on its own clock: it hears from each often enough to keep it.
      tellSeenEveryMs: Math.floor(expireAfterMs / TELLS_PER_EXPIRY),
      expireAfterMs,
    });
  } catch (error) {
    await owned?.close().catch(() => {});
    throw new ServerError('STORE_FAILED', `cannot load the registry from ${store.description}: ${(error as Error).message}`, { cause: error });
  }
  const counters = new Counters();
  const limiter = rateLimit.perSecond > 0 ? new RateLimiter(rateLimit) : undefined;
  // CONNECT-BACK leaves through the socket bound below; no CALLBACK can arrive before it is.
  const callbacks = new CallbackRelay((bytes, to) => socket.send(bytes, to.port, to.ip), log, options.callbackRate);
  const answers = new Answers({ registry, maxDatagram, keptPages: new KeptPages(registry), counters, log, callbacks });
  const pipeline = new DatagramPipeline({ answers, maxDatagram, log, counters, readReplies: new ReadReplyCache(), mutationReplies: new MutationReplyCache(), limiter });
  const socket = await bindUdp(host, port, log, options.sharedPort).catch(async (error: unknown) => {
    await owned?.close().catch(() => {});
    throw error;
  });
  const loop = serveDatagrams(socket, pipeline, counters, log);
  const bound = socket.address();

  const stats = () => statsOf(counters, registry);
  const logSummary = () => log.info('summary', { ...stats() });
  const expireStale = () => (expireAfterMs > 0 ? registry.expireStale(expireAfterMs) : Promise.resolve([]));
  // A shared store is followed continuously: it answers while its change feed does. Another is asked
  // for a name no peer can have: the store's round trip, whatever it holds.
  const checkStore = async () => {
    if (ledger.reread) {
      await ledger.reread(HEALTH_PROBE_KEY);
      return;
    }
    const { staleMs } = ledger.stats();
    if (staleMs > 0) throw new Error(`the store has not answered the change feed for ${Math.round(staleMs)} ms`);
  };
  const timers = [
    setInterval(logSummary, SUMMARY_INTERVAL_MS),
    setInterval(() => reportRateLimited(limiter, log), RATE_REPORT_INTERVAL_MS),
    ...(expireAfterMs > 0 ? [setInterval(() => void expireStale(), Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(1, expireAfterMs / 4)))] : []),
  ];
  for (const timer of timers) timer.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const timer of timers) clearInterval(timer);
      loop.stopReceiving();
      await pipeline.drained();
      await registry.settled();
      // Replies are handed to the socket on the turn their handler finishes: one more turn sends the last.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      reportRateLimited(limiter, log);
      await owned?.close();
    })());

  return {
    address: { host: bound.address, port: bound.port, family: isIPv6(bound.address) ? 'IPv6' : 'IPv4' },
    registry,
    stats,
    logSummary,
    expireStale,
    checkStore,
    close,
  };
}

/** Not a peer name ('#' is not allowed in one), so the health check's read never finds a peer. */
const HEALTH_PROBE_KEY = '#health-check';

/**
 * The registry's ledger with each write timed, from the commit until the store confirms it durable
 * (decisions that change nothing are not writes). Every other call goes to the ledger as it is.
 */
function timedCommits(ledger: Ledger, observe: (seconds: number) => void): Ledger {
  const commit: Ledger['commit'] = (item) => {
    if (item.next === undefined) return ledger.commit(item);
    const started = performance.now();
    return ledger.commit(item).finally(() => observe((performance.now() - started) / 1000));
  };
  return new Proxy(ledger, {
    get(target, property) {
      if (property === 'commit') return commit;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function openRegistryStore(
  store: RegistryStore | Ledger | string,
  log: Logger,
  settings: Record<string, string>,
): Promise<{ store: RegistryStore | Ledger; owned?: Ledger }> {
  if (typeof store !== 'string') return { store };
  try {
    const opened = await openLedger(store, 'peers', { logger: log.child({ component: 'store' }), settings });
    return { store: opened, owned: opened };
  } catch (error) {
    // A URL no store serves is a usage mistake (exit 2 from the CLI); anything else is the store failing.
    const code = error instanceof StoreError && error.code === 'STORE_URL_INVALID' ? 'BAD_OPTION' : 'STORE_FAILED';
    throw new ServerError(code, (error as Error).message, { cause: error });
  }
}

function reportRateLimited(limiter: RateLimiter | undefined, log: Logger): void {
  const refused = limiter?.takeRefusals() ?? [];
  if (refused.length === 0) return;
  const datagrams = refused.reduce((sum, [, n]) => sum + n, 0);
  log.warn('rate limited', { datagrams, sources: refused.length, busiest: Object.fromEntries(refused.slice(0, 5)) });
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ServerError('BAD_OPTION', `${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
export { isWorker, reportListening, startWorkers, workersProblem, type Workers } from './workers.js';
