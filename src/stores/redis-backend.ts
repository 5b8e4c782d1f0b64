// Redis through @keyv/redis: the adapter owns a node-redis client; a whole group is one MULTI/EXEC
// transaction (DEL of the removed keys, one MSET of the puts), applied atomically in one round trip.
// How durable an acknowledged write is depends on the server's persistence settings (appendonly,
// appendfsync), not on the client.
//
// A Redis that is down must make calls fail, not wait: the offline queue is disabled, so a command
// sent while the client reconnects rejects at once, and the first connection attempt fails on its
// first error instead of retrying (the reconnect strategy retries only once a connection has worked).
import KeyvRedis from '@keyv/redis';
import { KeyvBackend, type Backend } from './backend.js';
import type { Batch } from './batch.js';
import { decodeRecord } from './record.js';
import { describeHolder, inUse, thisHolder } from './sole-writer-lock.js';
import { redactUrl } from './store-url.js';

/** Keys asked for per SCAN and per MGET when listing a namespace. */
const SCAN_PAGE = 1000;
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * An exclusive store (the index server's registry, one writer) holds a lease key, renewed every
 * RENEW_MS: a server that dies without releasing it (kill -9) leaves it to lapse within LEASE_MS.
 */
const LEASE_MS = 15_000;
const RENEW_MS = 5000;
/** Renews the lease if it is still this holder's: returns 1, or 0 when it is not. */
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * The node-redis calls this module makes. Typing the client through node-redis's own generics makes
 * TypeScript 7 run for minutes and gigabytes as soon as `multi()` is mentioned.
 */
interface RedisCommands {
  scan(cursor: string, options: { MATCH: string; COUNT: number }): Promise<{ cursor: string; keys: string[] }>;
  mGet(keys: string[]): Promise<Array<string | null>>;
  multi(): RedisTransaction;
  set(key: string, value: string, options: { condition: 'NX'; expiration: { type: 'PX'; value: number } }): Promise<string | null>;
  get(key: string): Promise<string | null>;
  pTTL(key: string): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}
interface RedisTransaction {
  del(keys: string[]): RedisTransaction;
  mSet(pairs: Array<[string, string]>): RedisTransaction;
  exec(): Promise<unknown[]>;
}

export async function openRedisBackend(url: URL, namespace: string, timeoutMs: number, exclusive = false): Promise<Backend> {
  let connectedOnce = false;
  let lastError: unknown;
  const adapter = new KeyvRedis<string>(
    {
      url: url.href,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: timeoutMs,
        reconnectStrategy: (retries: number, cause: Error) =>
          connectedOnce ? Math.min(100 * 2 ** retries, MAX_RECONNECT_DELAY_MS) : cause,
      },
    },
    { throwOnErrors: true, throwOnConnectError: true },
  );
  // node-redis emits every failed (re)connection attempt; calls report their own failures.
  adapter.on('error', (error: unknown) => (lastError = error));
  try {
    const client = (await adapter.getClient()) as unknown as RedisCommands;
    connectedOnce = true;
    const lease = exclusive ? await takeLease(client, url, namespace).catch(async (error: unknown) => {
      await adapter.disconnect().catch(() => {});
      throw error;
    }) : undefined;
    return new RedisBackend(adapter, client, namespace, lease);
  } catch (error) {
    // The adapter replaces the cause with a generic "failed to connect"; the emitted error has it.
    throw lastError ?? error;
  }
}

interface Lease {
  key: string;
  holder: string;
  renewal: NodeJS.Timeout;
}

/** The lease key of a namespace: outside the namespace's own keys (`<namespace>:…`). */
const leaseKey = (namespace: string): string => `p2fs-sole-writer:${namespace}`;

async function takeLease(client: RedisCommands, url: URL, namespace: string): Promise<Lease> {
  const key = leaseKey(namespace);
  const holder = JSON.stringify(thisHolder());
  if ((await client.set(key, holder, { condition: 'NX', expiration: { type: 'PX', value: LEASE_MS } })) === null) {
    const [current, left] = await Promise.all([client.get(key), client.pTTL(key)]);
    const by = describeHolder(current === null ? undefined : JSON.parse(current));
    const wait = left > 0 ? `wait ${Math.ceil(left / 1000)} s if it has stopped (its lease lapses then)` : undefined;
    throw inUse(redactUrl(url.href), by, wait);
  }
  // A renewal that fails (Redis away for a moment) is retried at the next one; the lease outlasts two.
  const renewal = setInterval(() => void client.eval(RENEW, { keys: [key], arguments: [holder, String(LEASE_MS)] }).catch(() => {}), RENEW_MS);
  renewal.unref();
  return { key, holder, renewal };
}

class RedisBackend extends KeyvBackend<KeyvRedis<string>> {
  readonly #client: RedisCommands;
  readonly #lease: Lease | undefined;

  constructor(adapter: KeyvRedis<string>, client: RedisCommands, namespace: string, lease?: Lease) {
    super(adapter, namespace);
    this.#client = client;
    this.#lease = lease;
  }

  async entries(): Promise<Array<[string, unknown]>> {
    const keys = await this.#namespaceKeys();
    const entries: Array<[string, unknown]> = [];
    for (let start = 0; start < keys.length; start += SCAN_PAGE) {
      const page = keys.slice(start, start + SCAN_PAGE);
      const records = await this.#client.mGet(page);
      records.forEach((record, i) => {
        // null: deleted between the SCAN and the MGET
        if (record !== null) entries.push([page[i]!.slice(this.prefix.length), decodeRecord(record)]);
      });
    }
    return entries;
  }

  async commit(batch: Batch): Promise<void> {
    // A clear is a SCAN before the transaction: Redis has no "delete by prefix". A key another
    // client adds to this namespace between the two survives; each namespace has one writer.
    const removed = batch.clear ? await this.#namespaceKeys() : [];
    for (const key of batch.deletes) removed.push(this.prefix + key);
    const transaction = this.#client.multi();
    if (removed.length > 0) transaction.del(removed);
    if (batch.puts.size > 0) transaction.mSet(Array.from(batch.puts, ([key, record]): [string, string] => [this.prefix + key, record]));
    await transaction.exec();
  }

  async close(): Promise<void> {
    const lease = this.#lease;
    if (lease) {
      clearInterval(lease.renewal);
      await this.#client.eval(RELEASE, { keys: [lease.key], arguments: [lease.holder] }).catch(() => {}); // else it lapses
    }
    await this.adapter.disconnect();
  }

  /** Every key of the namespace, each once (SCAN may return a key twice). */
  async #namespaceKeys(): Promise<string[]> {
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const page = await this.#client.scan(cursor, { MATCH: `${this.prefix}*`, COUNT: SCAN_PAGE });
      cursor = page.cursor;
      for (const key of page.keys) keys.add(key);
    } while (cursor !== '0');
    return [...keys];
  }
}
