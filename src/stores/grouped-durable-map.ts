// The DurableMap every store shares. Writes go through group commit; reads first wait for the writes
// issued before them, so a get() after an un-awaited set() sees it; every call has a deadline; and
// every failure becomes a StoreError that names the store and the call.
import type { Backend } from './backend.js';
import type { Mutation } from './batch.js';
import { withDeadline } from './deadline.js';
import type { DurableMap } from './durable-map.js';
import { GroupCommitter } from './group-commit.js';
import { encodeRecord } from './record.js';
import { StoreError, toStoreError } from './store-error.js';

/**
 * Longest stored key, "<namespace>:" included. The keyv adapters declare the key column VARCHAR(255);
 * PostgreSQL and MySQL refuse a longer key, which would fail every write of its group. Enforced for
 * every store so that tests on memory or SQLite catch it too.
 */
export const MAX_STORED_KEY_LENGTH = 255;

export interface MapSettings {
  /** The redacted URL. */
  description: string;
  namespace: string;
  timeoutMs: number;
}

export class GroupedDurableMap<V> implements DurableMap<V> {
  readonly description: string;
  readonly #backend: Backend;
  readonly #writes: GroupCommitter;
  readonly #label: string;
  readonly #maxKeyLength: number;
  readonly #timeoutMs: number;
  #closing: Promise<void> | undefined;

  constructor(backend: Backend, settings: MapSettings) {
    this.description = settings.description;
    this.#backend = backend;
    this.#label = `${settings.description} [${settings.namespace}]`;
    this.#maxKeyLength = MAX_STORED_KEY_LENGTH - settings.namespace.length - 1;
    this.#timeoutMs = settings.timeoutMs;
    this.#writes = new GroupCommitter((batch) => backend.commit(batch), settings.timeoutMs, this.#label);
  }

  entries(): Promise<Array<[string, V]>> {
    return this.#read('entries()', () => this.#backend.entries()) as Promise<Array<[string, V]>>;
  }

  get(key: string): Promise<V | undefined> {
    return this.#read(`get(${JSON.stringify(key)})`, () => this.#backend.get(key)) as Promise<V | undefined>;
  }

  // async, so that a bad key or value rejects like every other failure instead of throwing; the
  // write is still submitted synchronously, in the caller's turn, which is what groups it.
  async set(key: string, value: V): Promise<void> {
    if (key.length > this.#maxKeyLength) {
      throw new RangeError(
        `${this.#label}: key of ${key.length} characters is longer than the ${this.#maxKeyLength} this namespace allows`,
      );
    }
    return this.#write('set()', { op: 'put', key, record: encodeRecord(value) });
  }

  async delete(key: string): Promise<void> {
    return this.#write('delete()', { op: 'delete', key });
  }

  async clear(): Promise<void> {
    return this.#write('clear()', { op: 'clear' });
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  #write(what: string, mutation: Mutation): Promise<void> {
    this.#assertOpen(what);
    return this.#writes.submit(mutation);
  }

  async #read<T>(what: string, read: () => Promise<T>): Promise<T> {
    this.#assertOpen(what);
    try {
      return await withDeadline(this.#writes.settled().then(read), this.#timeoutMs, `${this.#label}: ${what}`);
    } catch (error) {
      throw toStoreError(error, `${this.#label}: ${what} failed`);
    }
  }

  async #shutDown(): Promise<void> {
    const drainThenClose = this.#writes.settled().then(() => this.#backend.close());
    try {
      await withDeadline(drainThenClose, this.#timeoutMs, `${this.#label}: close()`);
    } catch (error) {
      throw toStoreError(error, `${this.#label}: close() failed`);
    }
  }

  #assertOpen(what: string): void {
    if (this.#closing) throw new StoreError('STORE_FAILED', `${this.#label}: ${what} called after close()`);
  }
}
