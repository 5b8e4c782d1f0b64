/** A namespace of JSON values in a durable store, written through and read back at start-up. */
export interface DurableMap<V> {
  /** Every entry currently stored (used once at start-up to load state into memory). */
  entries(): Promise<Array<[string, V]>>;
  get(key: string): Promise<V | undefined>;
  /** Resolves only once the value is durably stored; rejects with StoreError if the store failed. */
  set(key: string, value: V): Promise<void>;
  delete(key: string): Promise<void>;
  clear(): Promise<void>;
  /** Commits the writes already issued, then releases the connection; later calls reject. */
  close(): Promise<void>;
  /** The store's URL with any password redacted, e.g. "sqlite://data/registry.sqlite". */
  readonly description: string;
}
