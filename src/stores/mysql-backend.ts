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
import { createRequire } from 'node:module';
import KeyvMysql from '@keyv/mysql';
import { KeyvBackend, type Backend } from './backend.js';
import type { Batch } from './batch.js';
import { decodeRecord } from './record.js';
import { redactUrl } from './store-url.js';

const TABLE = 'keyv'; // @keyv/mysql's default, passed explicitly so that our SQL and its table agree

// The adapter's query() takes finished SQL text, so values are escaped with the mysql2 that
// @keyv/mysql itself depends on (and formats its own queries with); it is not a dependency of ours.
const mysql2 = createRequire(import.meta.resolve('@keyv/mysql'))('mysql2') as {
  format(sql: string, values: unknown[]): string;
};

let sharedPool: { url: string; stores: number } | undefined;

export async function openMysqlBackend(url: URL, namespace: string, timeoutMs: number): Promise<Backend> {
  if (sharedPool !== undefined && sharedPool.url !== url.href) {
    throw new Error(
      `@keyv/mysql keeps one connection pool per process and ${redactUrl(sharedPool.url)} is open; ` +
        'close its stores before opening another MySQL URL',
    );
  }
  sharedPool = { url: url.href, stores: (sharedPool?.stores ?? 0) + 1 };
  const adapter = new KeyvMysql({ uri: url.href, table: TABLE, connectTimeout: timeoutMs });
  const backend = new MysqlBackend(adapter, namespace);
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
