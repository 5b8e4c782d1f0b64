// MySQL / MariaDB through @keyv/mysql: the adapter creates the table and a mysql2 pool. A group is
// at most three statements (the clear, the deletes, one multi-row upsert), each atomic on its own.
// They cannot share a transaction: the adapter sends each query to whichever pooled connection is
// free. If one fails, the group's earlier statements stay applied, and every caller of the group is
// rejected anyway (a rejection means "maybe not stored", never the reverse). With InnoDB's default
// innodb_flush_log_at_trx_commit=1, each statement is on disk when it returns.
//
// Traps in the adapter, worked around here:
// - It creates the key column with the database's default collation, usually case-insensitive, so
//   "Key" and "key" would be one row. The column is switched to utf8mb4_bin once, at open.
// - It keeps one pool per process in a module variable, and its disconnect() ends that pool. So the
//   stores share the pool, the last one to close ends it, and a second MySQL URL is refused while
//   the first is open, since the adapter would then close the wrong pool.
// - Its value column is TEXT: a record over 64 KiB is refused (and fails its whole group).
//
// An exclusive store (the index server's registry, one writer) holds GET_LOCK on a connection of its
// own for as long as it is open: MySQL releases it when that connection ends, the holder's death
// included, and tells who holds it (IS_USED_LOCK, the process list).
import { createRequire } from 'node:module';
import KeyvMysql from '@keyv/mysql';
import { KeyvBackend, type Backend } from './backend.js';
import type { Batch } from './batch.js';
import { decodeRecord } from './record.js';
import { inUse } from './sole-writer-lock.js';
import { redactUrl } from './store-url.js';

const TABLE = 'keyv'; // @keyv/mysql's default, passed explicitly so that our SQL and its table agree

// The adapter's query() takes finished SQL text, so values are escaped with the mysql2 that
// @keyv/mysql itself depends on (and formats its own queries with); it is not a dependency of ours.
const requireFromAdapter = createRequire(import.meta.resolve('@keyv/mysql'));
const mysql2 = requireFromAdapter('mysql2') as {
  format(sql: string, values: unknown[]): string;
};
const mysql2Promise = requireFromAdapter('mysql2/promise') as {
  createConnection(options: { uri: string; connectTimeout: number }): Promise<LockConnection>;
};

/** The part of a mysql2/promise connection the lock uses. */
interface LockConnection {
  query<Row>(sql: string, values?: unknown[]): Promise<[Row[], unknown]>;
  ping(): Promise<void>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** The lock connection is pinged this often, so no idle timeout (wait_timeout) ends it and its lock. */
const LOCK_PING_MS = 60_000;

let sharedPool: { url: string; stores: number } | undefined;

export async function openMysqlBackend(url: URL, namespace: string, timeoutMs: number, exclusive = false): Promise<Backend> {
  const lock = exclusive ? await holdLock(url, namespace, timeoutMs) : undefined;
  try {
    return await openShared(url, namespace, timeoutMs, lock);
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

interface HeldLock {
  release(): Promise<void>;
}

/** GET_LOCK names are per server, up to 64 characters: the database and the namespace. */
const lockName = (url: URL, namespace: string): string => `p2fs:${decodeURIComponent(url.pathname.slice(1))}:${namespace}`.slice(0, 64);

async function holdLock(url: URL, namespace: string, timeoutMs: number): Promise<HeldLock> {
  const connection = await mysql2Promise.createConnection({ uri: url.href, connectTimeout: timeoutMs });
  connection.on('error', () => {}); // a lost lock connection: the lock is gone with it, nothing to crash over
  const name = lockName(url, namespace);
  try {
    const [[got]] = await connection.query<{ got: number | null }>('SELECT GET_LOCK(?, 0) AS got', [name]);
    if (got?.got !== 1) {
      const [[holder]] = await connection.query<{ id: number | null; host: string | null }>(
        'SELECT IS_USED_LOCK(?) AS id, (SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = IS_USED_LOCK(?)) AS host',
        [name, name],
      );
      const by = holder?.id ? `MySQL connection ${holder.id}${holder.host ? ` from ${holder.host}` : ''}` : undefined;
      throw inUse(redactUrl(url.href), by);
    }
  } catch (error) {
    await connection.end().catch(() => {});
    throw error;
  }
  const ping = setInterval(() => void connection.ping().catch(() => {}), LOCK_PING_MS);
  ping.unref();
  return {
    async release() {
      clearInterval(ping);
      await connection.end().catch(() => {}); // ending the connection releases the lock
    },
  };
}

async function openShared(url: URL, namespace: string, timeoutMs: number, lock: HeldLock | undefined): Promise<Backend> {
  if (sharedPool !== undefined && sharedPool.url !== url.href) {
    throw new Error(
      `@keyv/mysql keeps one connection pool per process and ${redactUrl(sharedPool.url)} is open; ` +
        'close its stores before opening another MySQL URL',
    );
  }
  sharedPool = { url: url.href, stores: (sharedPool?.stores ?? 0) + 1 };
  const adapter = new KeyvMysql({ uri: url.href, table: TABLE, connectTimeout: timeoutMs });
  const backend = new MysqlBackend(adapter, namespace, lock);
  try {
    await makeKeysCaseSensitive(backend);
    return backend;
  } catch (error) {
    await backend.close();
    throw error;
  }
}

async function makeKeysCaseSensitive(backend: MysqlBackend): Promise<void> {
  const [column] = await backend.rows<{ collation: string }>(
    `SELECT COLLATION_NAME AS collation FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'id'`,
    [TABLE],
  );
  if (column === undefined) throw new Error(`table ${TABLE} was not created`);
  if (!column.collation.endsWith('_bin')) {
    await backend.rows(`ALTER TABLE ${TABLE} MODIFY id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL`, []);
  }
}

class MysqlBackend extends KeyvBackend<KeyvMysql> {
  readonly #lock: HeldLock | undefined;

  constructor(adapter: KeyvMysql, namespace: string, lock?: HeldLock) {
    super(adapter, namespace);
    this.#lock = lock;
  }

  async entries(): Promise<Array<[string, unknown]>> {
    const rows = await this.rows<{ id: string; value: string }>(`SELECT id, value FROM ${TABLE} WHERE LEFT(id, ?) = ?`, [
      this.prefix.length,
      this.prefix,
    ]);
    return rows.map((row) => [row.id.slice(this.prefix.length), decodeRecord(row.value)]);
  }

  async commit(batch: Batch): Promise<void> {
    if (batch.clear) {
      await this.rows(`DELETE FROM ${TABLE} WHERE LEFT(id, ?) = ?`, [this.prefix.length, this.prefix]);
    }
    if (batch.deletes.size > 0) {
      await this.rows(`DELETE FROM ${TABLE} WHERE id IN (?)`, [Array.from(batch.deletes, (key) => this.prefix + key)]);
    }
    if (batch.puts.size > 0) {
      // VALUES(value) is deprecated in MySQL 8.0.20+ but still works there, and MariaDB has no
      // replacement for it.
      await this.rows(`INSERT INTO ${TABLE} (id, value) VALUES ? ON DUPLICATE KEY UPDATE value = VALUES(value)`, [
        Array.from(batch.puts, ([key, record]) => [this.prefix + key, record]),
      ]);
    }
  }

  async close(): Promise<void> {
    await this.#lock?.release();
    if (sharedPool === undefined) return;
    sharedPool.stores -= 1;
    if (sharedPool.stores > 0) return;
    sharedPool = undefined;
    await this.adapter.disconnect();
  }

  async rows<Row>(sql: string, values: unknown[]): Promise<Row[]> {
    return (await this.adapter.query(mysql2.format(sql, values))) as unknown as Row[];
  }
}
