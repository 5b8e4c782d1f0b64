// SQLite through @keyv/sqlite: the adapter creates the table and owns one sqlite3 connection per
// store; its `query` runs our SQL on that connection, so a whole group is one transaction.
//
// journal_mode=WAL with synchronous=NORMAL: a commit appends to the WAL without an fsync. The WAL
// sits in the OS page cache, so a commit survives the process dying (kill -9, a crash); only an OS
// crash or power loss can lose the last commits. keyv's own set (one commit per write) measured
// ~1,500/s with SQLite's defaults (rollback journal, synchronous=FULL) and ~6,300/s with WAL+NORMAL.
// busy_timeout: every namespace has its own connection to the file, so a writer waits for another
// connection's commit instead of failing at once with SQLITE_BUSY.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import { KeyvBackend } from './backend.js';
import type { Batch } from './batch.js';
import { decodeRecord } from './record.js';

const TABLE = 'keyv'; // @keyv/sqlite's default, passed explicitly so that our SQL and its table agree

export interface SqlitePragmas {
  journalMode: string;
  synchronous: 'off' | 'normal' | 'full' | 'extra';
  busyTimeoutMs: number;
}

type Statement = [sql: string, ...parameters: unknown[]];

export async function openSqliteBackend(path: string, namespace: string, timeoutMs: number): Promise<SqliteBackend> {
  await mkdir(dirname(path), { recursive: true });
  // Half the operation deadline, so SQLite reports SQLITE_BUSY before the deadline reports a vaguer timeout.
  const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, table: TABLE, busyTimeout: Math.ceil(timeoutMs / 2) });
  // The adapter also emits the connection error it rejects every query with; with no listener,
  // EventEmitter would throw it a second time from inside the adapter.
  adapter.on('error', () => {});
  try {
    await adapter.query('PRAGMA journal_mode = WAL');
    await adapter.query('PRAGMA synchronous = NORMAL');
    const backend = new SqliteBackend(adapter, namespace);
    const pragmas = await backend.pragmas();
    if (pragmas.journalMode !== 'wal' || pragmas.synchronous !== 'normal') {
      throw new Error(`journal_mode=${pragmas.journalMode}, synchronous=${pragmas.synchronous}; need wal and normal`);
    }
    return backend;
  } catch (error) {
    await adapter.close().catch(() => {}); // the open error is the one worth reporting
    throw error;
  }
}

export class SqliteBackend extends KeyvBackend<KeyvSqlite> {
  async entries(): Promise<Array<[string, unknown]>> {
    // GLOB is case-sensitive and uses the key index; the namespace holds no GLOB wildcard.
    const rows: Array<{ key: string; value: string }> = await this.adapter.query(
      `SELECT key, value FROM ${TABLE} WHERE key GLOB ?`,
      `${this.prefix}*`,
    );
    return rows.map((row) => [row.key.slice(this.prefix.length), decodeRecord(row.value)]);
  }

  async commit(batch: Batch): Promise<void> {
    const statements = this.#statements(batch);
    if (statements.length === 1) {
      await this.adapter.query(...statements[0]!); // one statement is its own transaction
      return;
    }
    // Only this store writes on this connection, and it commits one group at a time, so no other
    // write can end up inside this transaction (a read issued meanwhile may run in it).
    await this.adapter.query('BEGIN IMMEDIATE');
    try {
      for (const statement of statements) await this.adapter.query(...statement);
      await this.adapter.query('COMMIT');
    } catch (error) {
      await this.adapter.query('ROLLBACK').catch(() => {}); // fails only when no transaction is left open
      throw error;
    }
  }

  close(): Promise<void> {
    return this.adapter.close();
  }

  /** The settings in force on this store's own connection (synchronous and busy_timeout are per connection). */
  async pragmas(): Promise<SqlitePragmas> {
    const [journal] = await this.adapter.query('PRAGMA journal_mode');
    const [synchronous] = await this.adapter.query('PRAGMA synchronous');
    const [busy] = await this.adapter.query('PRAGMA busy_timeout');
    return {
      journalMode: journal.journal_mode,
      synchronous: (['off', 'normal', 'full', 'extra'] as const)[synchronous.synchronous as number]!,
      busyTimeoutMs: busy.timeout,
    };
  }

  #statements(batch: Batch): Statement[] {
    const statements: Statement[] = [];
    const prefixed = (key: string) => this.prefix + key;
    if (batch.clear) statements.push([`DELETE FROM ${TABLE} WHERE key GLOB ?`, `${this.prefix}*`]);
    if (batch.deletes.size > 0) {
      statements.push([
        `DELETE FROM ${TABLE} WHERE key IN (SELECT value FROM json_each(?))`,
        JSON.stringify(Array.from(batch.deletes, prefixed)),
      ]);
    }
    if (batch.puts.size > 0) {
      // All puts in one statement: the pairs travel as one JSON array. "WHERE true" is SQLite's
      // required disambiguation between an upsert's ON CONFLICT and a join's ON.
      statements.push([
        `INSERT INTO ${TABLE} (key, value)
           SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?) WHERE true
           ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        JSON.stringify(Array.from(batch.puts, ([key, record]) => [prefixed(key), record])),
      ]);
    }
    return statements;
  }
}
