// What each kind of store provides under the shared DurableMap behaviour (grouping, deadlines,
// encoding, error wrapping). Keys here are the caller's keys; each backend adds the namespace prefix.
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import type { Batch } from './batch.js';

export interface Backend {
  /** The decoded value, or undefined when the key is absent. */
  get(key: string): Promise<unknown>;
  /** Every entry of the namespace, values decoded, in one read (no paging). */
  entries(): Promise<Array<[string, unknown]>>;
  /** Applies the whole batch; resolves once the store has committed it. */
  commit(batch: Batch): Promise<void>;
  close(): Promise<void>;
}

/**
 * A keyv over `adapter` for single-key reads. It throws store errors instead of only emitting them,
 * and adds no key prefix of its own: keyv leaves a key that already starts with "<namespace>:" as it
 * is, so "ns:x" would alias "x"; the backends prefix every key themselves.
 */
function throwingKeyv(adapter: KeyvStoreAdapter): Keyv {
  return new Keyv(adapter, {
    namespace: undefined,
    useKeyPrefix: false,
    throwOnErrors: true,
    serialize: JSON.stringify,
    deserialize: JSON.parse,
  });
}

/**
 * What the keyv-backed stores share: their adapter, a throwing keyv over it for single-key reads, and
 * the namespace prefix every key of theirs carries. Each reads its namespace and commits batches in
 * its own way.
 */
export abstract class KeyvBackend<Adapter extends KeyvStoreAdapter> implements Backend {
  protected readonly prefix: string;
  readonly #reader: Keyv;

  constructor(protected readonly adapter: Adapter, namespace: string) {
    this.#reader = throwingKeyv(adapter);
    this.prefix = `${namespace}:`;
  }

  get(key: string): Promise<unknown> {
    return this.#reader.get(this.prefix + key);
  }

  abstract entries(): Promise<Array<[string, unknown]>>;
  abstract commit(batch: Batch): Promise<void>;
  abstract close(): Promise<void>;
}
