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

/** Keys asked for per SCAN and per MGET when listing a namespace. */
const SCAN_PAGE = 1000;
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * The node-redis calls this module makes. Typing the client through node-redis's own generics makes
 * TypeScript 7 run for minutes and gigabytes as soon as `multi()` is mentioned.
 */
interface RedisCommands {
  scan(cursor: string, options: { MATCH: string; COUNT: number }): Promise<{ cursor: string; keys: string[] }>;
  mGet(keys: string[]): Promise<Array<string | null>>;
  multi(): RedisTransaction;
}
interface RedisTransaction {
  del(keys: string[]): RedisTransaction;
  mSet(pairs: Array<[string, string]>): RedisTransaction;
  exec(): Promise<unknown[]>;
}

export async function openRedisBackend(url: URL, namespace: string, timeoutMs: number): Promise<Backend> {
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
    return new RedisBackend(adapter, client, namespace);
  } catch (error) {
    // The adapter replaces the cause with a generic "failed to connect"; the emitted error has it.
    throw lastError ?? error;
  }
}

class RedisBackend extends KeyvBackend<KeyvRedis<string>> {
  readonly #client: RedisCommands;

  constructor(adapter: KeyvRedis<string>, client: RedisCommands, namespace: string) {
    super(adapter, namespace);
    this.#client = client;
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

  close(): Promise<void> {
    return this.adapter.disconnect();
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
