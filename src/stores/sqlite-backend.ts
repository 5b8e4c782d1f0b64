// SQLite through @keyv/sqlite: the adapter creates the table and owns one sqlite3 connection per
// store; its `query` runs our SQL on that connection, so a whole group is one transaction.
//
// journal_mode=WAL with synchronous=NORMAL: a commit appends to the WAL without an fsync. The WAL
// sits in the OS page cache, so a commit survives the process dying (kill -9, a crash); only an OS
// crash or power loss can lose the last commits. keyv's own set (one commit per write) measured
// ~1,500/s with SQLite's defaults (rollback journal, synchronous=FULL) and ~6,300/s with WAL+NORMAL.
// busy_timeout: every namespace has its own connection to the file, so a writer waits for another
// connection's commit instead of failing at once with SQLITE_BUSY.
//
// An exclusive store (the index server's registry, one writer) holds the file's lock for as long as
// its connection is open (locking_mode=EXCLUSIVE): another process cannot even read it, and the OS
// releases the lock when the holder dies, kill -9 included. Who holds it is written beside the file.
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import { KeyvBackend } from './backend.js';
import type { Batch } from './batch.js';
import { decodeRecord } from './record.js';
import { describeHolder, inUse, thisHolder } from './sole-writer-lock.js';

const TABLE = 'keyv'; // @keyv/sqlite's default, passed explicitly so that our SQL and its table agree

export interface SqlitePragmas {
  journalMode: string;
  synchronous: 'off' | 'normal' | 'full' | 'extra';
  busyTimeoutMs: number;
}

type Statement = [sql: string, ...parameters: unknown[]];

export async function openSqliteBackend(path: string, namespace: string, timeoutMs: number, exclusive = false): Promise<SqliteBackend> {
  await mkdir(dirname(path), { recursive: true });
  // Half the operation deadline, so SQLite reports SQLITE_BUSY before the deadline reports a vaguer timeout.
  const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, table: TABLE, busyTimeout: Math.ceil(timeoutMs / 2) });
  // The adapter also emits the connection error it rejects every query with; with no listener,
  // EventEmitter would throw it a second time from inside the adapter.
  adapter.on('error', () => {});
  try {
    await adapter.query('PRAGMA journal_mode = WAL');
    await adapter.query('PRAGMA synchronous = NORMAL');
    if (exclusive) await holdLock(adapter, path);
    const backend = new SqliteBackend(adapter, namespace, exclusive ? ownerFile(path) : undefined);
    const pragmas = await backend.pragmas();
    if (pragmas.journalMode !== 'wal' || pragmas.synchronous !== 'normal') {
      throw new Error(`journal_mode=${pragmas.journalMode}, synchronous=${pragmas.synchronous}; need wal and normal`);
    }
    return backend;
  } catch (error) {
    await adapter.close().catch(() => {}); // the open error is the one worth reporting
    if (exclusive && isBusy(error)) throw inUse(`sqlite://${path}`, describeHolder(await readOwner(path)));
    throw error;
  }
}

/** Where the holder of an exclusive store's lock says who it is. */
const ownerFile = (path: string): string => `${path}-owner`;

/** Takes the file's lock and keeps it until the connection closes; then says who holds it. */
async function holdLock(adapter: KeyvSqlite, path: string): Promise<void> {
  await adapter.query('PRAGMA locking_mode = EXCLUSIVE');
  // In exclusive mode the first write transaction takes the lock, and the connection never lets go.
  await adapter.query('BEGIN EXCLUSIVE');
  await adapter.query('COMMIT');
  await writeFile(ownerFile(path), `${JSON.stringify(thisHolder())}\n`);
}

async function readOwner(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(ownerFile(path), 'utf8'));
  } catch {
    return undefined;
  }
}

const isBusy = (error: unknown): boolean =>
  (error as { code?: unknown })?.code === 'SQLITE_BUSY' || /SQLITE_BUSY|database is locked/.test(String((error as Error)?.message));

export class SqliteBackend extends KeyvBackend<KeyvSqlite> {
  /** The lock holder's note, removed when the lock goes (an exclusive store only). */
  readonly #owner: string | undefined;

  constructor(adapter: KeyvSqlite, namespace: string, owner?: string) {
    super(adapter, namespace);
    this.#owner = owner;
  }

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

  async close(): Promise<void> {
    if (this.#owner) await unlink(this.#owner).catch(() => {}); // only its holder writes it
    await this.adapter.close();
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
