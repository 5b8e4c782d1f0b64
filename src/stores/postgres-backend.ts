// PostgreSQL through @keyv/postgres: the adapter creates the table and a pg pool; a whole group is
// one statement (a DELETE in a WITH clause, then a multi-row upsert), so it commits atomically in
// one round trip. With synchronous_commit on (the default), a commit is fsynced before it returns.
//
// Two traps in the adapter, worked around here:
// - It keeps one pool per URI in a module variable, and its disconnect() ends whichever pool was
//   created last. Each store gets a URI of its own (a distinct fallback_application_name, which also
//   names the store in pg_stat_activity), hence a pool of its own, and ends that pool itself.
// - Its pool has no 'error' listener, so a dropped idle connection (a server restart, a proxy's idle
//   timeout) would crash the process. pg-pool calls `options.log` as a method of the pool: that call
//   is the only handle on the pool the adapter lets out, and where the listener gets attached.
import KeyvPostgres from '@keyv/postgres';
import { KeyvBackend, type Backend } from './backend.js';
import type { Batch } from './batch.js';
import { decodeRecord } from './record.js';

const SCHEMA = 'public';
const TABLE = 'keyv'; // @keyv/postgres's defaults, passed explicitly so that our SQL and its table agree
const QUALIFIED_TABLE = `${SCHEMA}.${TABLE}`;

/** The part of pg.Pool this module touches. */
interface PoolHandle {
  on(event: 'error', listener: (error: Error) => void): unknown;
  end(): Promise<void>;
}

let storesOpened = 0;

export async function openPostgresBackend(url: URL, namespace: string, timeoutMs: number): Promise<Backend> {
  const uri = new URL(url);
  storesOpened += 1;
  uri.searchParams.set('fallback_application_name', `p2fs-${namespace}-${storesOpened}`);

  let pool: PoolHandle | undefined;
  let lastError: unknown;
  const adapter = new KeyvPostgres({
    uri: uri.href,
    schema: SCHEMA,
    table: TABLE,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs, // bounds a commit, so the next group never waits forever behind it
    log(this: PoolHandle) {
      if (pool !== undefined) return;
      pool = this;
      // Nothing to do but not crash: the pool has already discarded the dead connection, and the
      // next call opens a new one or fails with its own error.
      pool.on('error', () => {});
    },
  });
  // The adapter reports a failed CREATE TABLE only as an event.
  adapter.on('error', (error: unknown) => (lastError = error));
  try {
    await adapter.query(`SELECT 1 FROM ${QUALIFIED_TABLE} LIMIT 1`);
  } catch (error) {
    await pool?.end().catch(() => {}); // the open error is the one worth reporting
    throw lastError ?? error;
  }
  return new PostgresBackend(adapter, namespace, () => pool?.end() ?? Promise.resolve());
}

class PostgresBackend extends KeyvBackend<KeyvPostgres> {
  readonly #endPool: () => Promise<void>;

  constructor(adapter: KeyvPostgres, namespace: string, endPool: () => Promise<void>) {
    super(adapter, namespace);
    this.#endPool = endPool;
  }

  // starts_with (PostgreSQL 11+) rather than LIKE: exact, whatever the namespace or collation.
  async entries(): Promise<Array<[string, unknown]>> {
    const rows: Array<{ key: string; value: string }> = await this.adapter.query(
      `SELECT key, value FROM ${QUALIFIED_TABLE} WHERE starts_with(key, $1)`,
      [this.prefix],
    );
    return rows.map((row) => [row.key.slice(this.prefix.length), decodeRecord(row.value)]);
  }

  async commit(batch: Batch): Promise<void> {
    // The DELETE must not touch a row the upsert writes (one statement may not change a row twice):
    // deletes and puts never share a key, and the clear spares the keys about to be put.
    await this.adapter.query(
      `WITH removed AS (
         DELETE FROM ${QUALIFIED_TABLE}
         WHERE key = ANY($1::text[])
            OR ($2::boolean AND starts_with(key, $3) AND NOT key = ANY($4::text[]))
       )
       INSERT INTO ${QUALIFIED_TABLE} (key, value)
       SELECT * FROM unnest($4::text[], $5::text[])
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [
        Array.from(batch.deletes, (key) => this.prefix + key),
        batch.clear,
        this.prefix,
        Array.from(batch.puts.keys(), (key) => this.prefix + key),
        Array.from(batch.puts.values()),
      ],
    );
  }

  close(): Promise<void> {
    return this.#endPool();
  }
}
