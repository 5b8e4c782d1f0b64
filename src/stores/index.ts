// The durable layer of the index server and the peer: one URL picks the store. openStore() gives a
// key-value namespace (durable-map.ts); openLedger() gives the index server's registry its ledger
// (ledger.ts): a shared registry on PostgreSQL, a single-writer one on any other store. See
// store-error.ts for the codes.
import type { Backend } from './backend.js';
import { withDeadline } from './deadline.js';
import type { DurableMap } from './durable-map.js';
import { GroupedDurableMap } from './grouped-durable-map.js';
import { openMemoryBackend } from './memory-backend.js';
import type { Logger } from '../log/index.js';
import type { Ledger } from './ledger.js';
import { SoleWriterLedger } from './sole-writer-ledger.js';
import { describeCause, isUnreachable, StoreError } from './store-error.js';
import { parseStoreUrl, redactUrl, type StoreTarget } from './store-url.js';

export type { DurableMap } from './durable-map.js';
export type { Change, ChangeSink, Ledger, LedgerItem, LedgerStats, Outcome, RequestKey } from './ledger.js';
export { StoreError, type StoreErrorCode } from './store-error.js';
export { ACCEPTED_URLS, DEFAULT_STORE_URL } from './store-url.js';

/**
 * How long any one call may take, opening included. A dead store must fail requests within seconds
 * rather than hang them; a healthy commit of a 20,000-write group takes a few tens of milliseconds.
 */
export const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Namespaces become key prefixes, and SQL LIKE/GLOB patterns and Redis SCAN patterns are built from
 * them: letters, digits, '_', '.' and '-' are literal in all of those.
 */
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface StoreOptions {
  /** Deadline of every call, in milliseconds; DEFAULT_TIMEOUT_MS when absent. */
  timeoutMs?: number;
  /**
   * The caller is the only writer of this namespace (the index server's registry): opening is refused
   * with STORE_IN_USE while another such caller has it open (see sole-writer-lock.ts).
   */
  exclusive?: boolean;
}

export async function openStore<V>(url: string, namespace: string, options: StoreOptions = {}): Promise<DurableMap<V>> {
  const target = parseStoreUrl(url);
  if (!NAMESPACE.test(namespace)) {
    throw new TypeError(`Invalid store namespace ${JSON.stringify(namespace)}: expected ${NAMESPACE.source}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`Invalid store timeoutMs ${timeoutMs}: expected a positive integer`);
  }
  const description = redactUrl(url);
  const what = `${description} [${namespace}]: could not open`;
  const opening = openBackend(target, namespace, timeoutMs, options.exclusive ?? false);
  let backend: Backend;
  try {
    backend = await withDeadline(opening, timeoutMs, what);
  } catch (error) {
    // An open that completes after its deadline would otherwise hold its connections forever.
    opening.then((late) => late.close()).catch(() => {});
    if (error instanceof StoreError) throw error;
    // Whatever stopped the store from opening, the caller's answer is the same: it is not usable.
    throw new StoreError('STORE_UNAVAILABLE', `${what}: ${describeCause(error)}`, { cause: error });
  }
  return new GroupedDurableMap<V>(backend, { description, namespace, timeoutMs });
}

export interface LedgerOptions extends StoreOptions {
  logger?: Logger;
  /** Settings the servers of a shared registry should agree on (a mismatch is logged). */
  settings?: Record<string, string>;
}

/**
 * The ledger of the index server's registry at `url`: on postgresql://, the shared registry that any
 * number of servers use at once; on any other store, the namespace `namespace` written by this
 * server alone. Closing the ledger closes what it opened.
 */
export async function openLedger(url: string, namespace: string, options: LedgerOptions = {}): Promise<Ledger> {
  const target = parseStoreUrl(url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (target.kind !== 'postgres') {
    const map = await openStore<unknown>(url, namespace, { timeoutMs, exclusive: true });
    return new SoleWriterLedger(map, { owned: true });
  }
  const what = `${redactUrl(url)} [shared registry]: could not open`;
  const { openSharedRegistry } = await import('./shared-registry/index.js');
  const opening = openSharedRegistry(target.url, { timeoutMs, logger: options.logger, settings: options.settings });
  try {
    return await withDeadline(opening, timeoutMs, what);
  } catch (error) {
    opening.then((late) => late.close()).catch(() => {});
    if (error instanceof StoreError) throw error;
    throw new StoreError(isUnreachable(error) ? 'STORE_UNAVAILABLE' : 'STORE_FAILED', `${what}: ${describeCause(error)}`, { cause: error });
  }
}

/**
 * Each driver is loaded when its store is opened, never before: a server on SQLite does not load the
 * PostgreSQL, MySQL and Redis clients. Besides the start-up time, Redis's client subclasses String,
 * which leaves V8's String.prototype in dictionary mode for the rest of the process: every string
 * method call in the request path then takes a generic lookup (measured: decoding a request 20 %
 * slower).
 */
async function openBackend(target: StoreTarget, namespace: string, timeoutMs: number, exclusive: boolean): Promise<Backend> {
  switch (target.kind) {
    case 'memory':
      return openMemoryBackend(target.name, namespace, exclusive);
    case 'sqlite':
      return (await import('./sqlite-backend.js')).openSqliteBackend(target.path, namespace, timeoutMs, exclusive);
    case 'postgres':
      // A keyv namespace on PostgreSQL has no claim of its own: the index server's registry there is
      // the shared one (openLedger), which several servers use at once by design.
      return (await import('./postgres-backend.js')).openPostgresBackend(target.url, namespace, timeoutMs);
    case 'redis':
      return (await import('./redis-backend.js')).openRedisBackend(target.url, namespace, timeoutMs, exclusive);
    case 'mysql':
      return (await import('./mysql-backend.js')).openMysqlBackend(target.url, namespace, timeoutMs, exclusive);
  }
}
