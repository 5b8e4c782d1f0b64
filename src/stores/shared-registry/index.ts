// The shared registry: any number of index servers on one PostgreSQL database, every one of them
// equal. Names are owned through the database (each decision is a compare-and-set on the name's
// version), the writes of one event-loop turn are one transaction (group commit), every server
// follows one ordered change log (feed.ts), and expiry runs on the database's clock, one server at a
// time. Records are opaque here: the registry's JSON, stored as text, handed back parsed.
//
// pg (node-postgres) is used directly: keyv offers neither compare-and-set nor a change feed.
import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import { silentLogger, type Logger } from '../../log/index.js';
import { CommitGroups } from '../group-commit.js';
import type { Change, ChangeSink, Ledger, LedgerItem, LedgerStats, Outcome } from '../ledger.js';
import { StoreError, describeCause, toStoreError } from '../store-error.js';
import { redactUrl } from '../store-url.js';
import { checkIn, checkOut } from './connections.js';
import { ChangeFeed } from './feed.js';
import { migrate } from './schema.js';

export { SCHEMA_VERSION } from './schema.js';

/**
 * How long the outcome of a mutation is kept for a retry through another server. A client retries
 * for 11.5 s by default (src/client/retry.ts); this outlasts that, and a delayed duplicate with it.
 */
export const REPLY_TTL_MS = 120_000;
/** How long the change log is kept: a server that stopped following for longer rereads everything. */
export const LOG_RETENTION_MS = 10 * 60_000;
/** How often one of the servers prunes the log and the kept outcomes. */
const PRUNE_EVERY_MS = 30_000;
/** Peers one expiry sweep removes at most (the next sweep takes the rest). */
const EXPIRE_BATCH = 10_000;
/** Connections for commits, the read barrier, log reads and rereads (commits never overlap). */
const POOL_SIZE = 4;
/** Touches wait at most this long for a commit to carry them. */
const TOUCH_FLUSH_MS = 1000;

export interface SharedRegistryOptions {
  /** Deadline of every call, in milliseconds, connecting included. */
  timeoutMs: number;
  logger?: Logger;
  /**
   * Settings every server of the registry should share (the expiry time, the datagram limit): kept
   * in p2fs_settings, and a server started with other values says so in its log.
   */
  settings?: Record<string, string>;
}

/** An entry of a commit group: a decision, or the flush of pending touches. */
type Entry = LedgerItem | typeof FLUSH_TOUCHES;
const FLUSH_TOUCHES = Symbol('flush touches');

interface OutcomeRow {
  i: number;
  kind: 'ok' | 'conflict' | 'repeat';
  version: string;
  record: string | null;
  outcome: string | null;
}

export async function openSharedRegistry(url: URL, options: SharedRegistryOptions): Promise<SharedRegistry> {
  const config = {
    connectionString: url.href,
    connectionTimeoutMillis: options.timeoutMs,
    query_timeout: options.timeoutMs,
    application_name: 'p2fs-index-server',
  };
  const pool = new pg.Pool({ ...config, max: POOL_SIZE });
  // An idle connection that drops (a restart, a proxy) must not crash the process: the pool has
  // already discarded it, and the next call opens a new one or fails with its own error.
  pool.on('error', () => {});
  try {
    await migrate(pool);
    await shareSettings(pool, options.settings ?? {}, options.logger ?? silentLogger);
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  return new SharedRegistry(pool, { ...config, query_timeout: undefined }, redactUrl(url.href), options);
}

export class SharedRegistry implements Ledger {
  readonly shared = true;
  readonly description: string;
  readonly #pool: Pool;
  readonly #listenerConfig: pg.ClientConfig;
  readonly #log: Logger;
  readonly #groups: CommitGroups<Entry, Outcome | undefined>;
  #feed: ChangeFeed | undefined;
  readonly #touched = new Set<string>();
  #touchTimer: NodeJS.Timeout | undefined;
  readonly #pruner: NodeJS.Timeout;
  #conflicts = 0;
  #repeats = 0;

  constructor(pool: Pool, listenerConfig: pg.ClientConfig, description: string, options: SharedRegistryOptions) {
    this.#pool = pool;
    this.#listenerConfig = listenerConfig;
    this.description = description;
    this.#log = options.logger ?? silentLogger;
    this.#groups = new CommitGroups<Entry, Outcome | undefined>((entries) => this.#commitGroup(entries), {
      timeoutMs: options.timeoutMs,
      label: `${description} [shared registry]`,
      charsOf: (entry) => (entry === FLUSH_TOUCHES ? 0 : entry.name.length + (entry.next ? JSON.stringify(entry.next).length : 0)),
    });
    this.#pruner = setInterval(() => void this.#prune(), PRUNE_EVERY_MS);
    this.#pruner.unref();
  }

  async open(sink: ChangeSink): Promise<void> {
    this.#feed = new ChangeFeed(this.#pool, this.#listenerConfig, sink, this.#log);
    await this.#feed.start();
  }

  commit(item: LedgerItem): Promise<Outcome> {
    return this.#groups.submit(item) as Promise<Outcome>;
  }

  /**
   * One decision in a transaction of its own that holds the head row from the first read to the
   * commit: no other server commits meanwhile (each of their commits waits a few round trips), so
   * the decision taken on the state read here cannot lose a race. Only after a conflict.
   */
  async commitAlone(name: string, decide: (current: Change) => LedgerItem): Promise<Outcome> {
    let client: PoolClient;
    try {
      client = await checkOut(this.#pool);
    } catch (error) {
      throw toStoreError(error, `${this.description}: cannot reach the database`); // nothing was sent
    }
    let broken: Error | undefined;
    let committing = false;
    let undecided: unknown;
    try {
      await client.query('BEGIN');
      const { rows: head } = await client.query<{ rev: string }>('SELECT rev FROM p2fs_head WHERE id = 1 FOR UPDATE');
      const { rows } = await client.query<{ version: string; record: string }>('SELECT version, record FROM p2fs_peers WHERE name = $1', [name]);
      const current: Change = rows[0]
        ? { name, version: Number(rows[0].version), record: JSON.parse(rows[0].record) }
        : { name, version: Number(head[0]!.rev), record: null };
      let item: LedgerItem;
      try {
        item = decide(current);
      } catch (error) {
        throw (undecided = error); // the caller's own failure: rolled back, and passed on as it is
      }
      const { rows: results } = await client.query<OutcomeRow>('SELECT * FROM p2fs_commit($1, $2, $3::interval)', [
        JSON.stringify([row(item, 0)]),
        [],
        `${REPLY_TTL_MS} milliseconds`,
      ]);
      committing = true;
      await client.query('COMMIT');
      return this.#outcome(results[0]!, item);
    } catch (error) {
      broken = error as Error;
      if (!committing) await client.query('ROLLBACK').catch(() => {});
      if (error === undecided) throw error;
      // Before COMMIT was sent, nothing can have landed; after, as for a group.
      if (!committing && !(error instanceof StoreError)) throw toStoreError(error, `${this.description}: the commit failed`);
      throw commitFailure(error, this.description);
    } finally {
      checkIn(client, broken && broken !== undecided && !isDatabaseError(broken) ? broken : undefined);
    }
  }

  touch(name: string): void {
    this.#touched.add(name);
    // A quiet server has no commit to carry them: one goes out for them alone.
    this.#touchTimer ??= setTimeout(() => {
      this.#touchTimer = undefined;
      if (this.#touched.size > 0) this.#groups.submit(FLUSH_TOUCHES).catch(() => {}); // retold on the peer's next requests
    }, TOUCH_FLUSH_MS);
  }

  async expire(afterMs: number): Promise<Change[]> {
    const { rows } = await this.#pool.query<{ rev: string; name: string }>('SELECT rev, name FROM p2fs_expire($1::interval, $2)', [
      `${afterMs} milliseconds`,
      EXPIRE_BATCH,
    ]);
    return rows.map((row) => ({ name: row.name, version: Number(row.rev), record: null }));
  }

  caughtUp(): Promise<void> {
    return this.#feed?.caughtUp() ?? Promise.resolve();
  }

  stats(): LedgerStats {
    const feed = this.#feed;
    return {
      applied: feed?.applied ?? 0,
      head: feed?.head ?? 0,
      staleMs: feed?.staleMs ?? 0,
      resyncs: feed?.resyncs ?? 0,
      reconnects: feed?.reconnects ?? 0,
      conflicts: this.#conflicts,
      repeats: this.#repeats,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#pruner);
    clearTimeout(this.#touchTimer);
    await this.#groups.settled();
    await this.#feed?.close();
    await this.#pool.end();
  }

  /**
   * One group in one call of p2fs_commit (schema.ts), normally one round trip. Items of one name are
   * never in one group (the registry decides one request per name at a time); should a name appear
   * twice anyway, the group is split into waves of distinct names, run in one transaction.
   */
  async #commitGroup(entries: readonly Entry[]): Promise<Array<Outcome | undefined>> {
    const touched = [...this.#touched];
    this.#touched.clear();
    const items = entries.map((entry, i) => (entry === FLUSH_TOUCHES ? undefined : row(entry, i)));
    // One outcome per request key: a later request with the same client and rq replaces an earlier one.
    const lastOfRequest = new Map<string, number>();
    for (const item of items) if (item?.request) lastOfRequest.set(item.request, item.i);
    for (const item of items) if (item?.request && lastOfRequest.get(item.request) !== item.i) item.request = null;
    const waves = splitByName(items.filter((item) => item !== undefined));

    let client: PoolClient;
    try {
      client = await checkOut(this.#pool);
    } catch (error) {
      throw toStoreError(error, `${this.description}: cannot reach the database`); // nothing was sent
    }
    const outcomes: Array<Outcome | undefined> = new Array(entries.length);
    let broken: Error | undefined;
    try {
      if (waves.length > 1) await client.query('BEGIN');
      for (const [w, wave] of (waves.length === 0 ? [[]] : waves).entries()) {
        const { rows } = await client.query<OutcomeRow>('SELECT * FROM p2fs_commit($1, $2, $3::interval)', [
          JSON.stringify(wave),
          w === 0 ? touched : [],
          `${REPLY_TTL_MS} milliseconds`,
        ]);
        for (const result of rows) outcomes[result.i] = this.#outcome(result, entries[result.i] as LedgerItem);
      }
      if (waves.length > 1) await client.query('COMMIT');
      return outcomes;
    } catch (error) {
      broken = error as Error;
      throw commitFailure(error, this.description);
    } finally {
      // A connection that failed without the database's word may be half-dead: never reuse it.
      checkIn(client, broken && !isDatabaseError(broken) ? broken : undefined);
    }
  }

  #outcome(result: OutcomeRow, item: LedgerItem): Outcome {
    if (result.kind === 'ok') return { kind: 'ok', version: Number(result.version) };
    if (result.kind === 'repeat') {
      this.#repeats++;
      return { kind: 'repeat', outcome: JSON.parse(result.outcome!) };
    }
    this.#conflicts++;
    const record = result.record === null ? null : JSON.parse(result.record);
    return { kind: 'conflict', current: { name: item.name, version: Number(result.version), record } };
  }

  async #prune(): Promise<void> {
    try {
      await this.#pool.query('SELECT p2fs_prune($1::interval)', [`${LOG_RETENTION_MS} milliseconds`]);
    } catch (error) {
      this.#log.warn('pruning the change log failed', { error });
    }
  }
}

/**
 * Records this server's settings, and warns when the registry's other servers were started with other
 * values: a server with a shorter expiry time, sweeping for all, would expire peers early; one with a
 * larger datagram limit accepts file names the others cannot list.
 */
async function shareSettings(pool: Pool, settings: Record<string, string>, log: Logger): Promise<void> {
  const names = Object.keys(settings);
  if (names.length === 0) return;
  const { rows } = await pool.query<{ name: string; value: string }>('SELECT name, value FROM p2fs_settings WHERE name = ANY($1)', [names]);
  for (const { name, value } of rows) {
    if (value !== settings[name]) {
      log.warn('servers of this registry disagree on a setting: give every one the same', { setting: name, lastStarted: value, thisServer: settings[name] });
    }
  }
  await pool.query(
    `INSERT INTO p2fs_settings (name, value) SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
    [names, names.map((name) => settings[name]!)],
  );
}

/** An item as p2fs_commit reads it. */
function row(item: LedgerItem, i: number) {
  return {
    i,
    name: item.name,
    expect: item.expect,
    change: item.next !== undefined,
    record: item.next === undefined || item.next === null ? null : JSON.stringify(item.next),
    request: item.request?.key ?? null,
    digest: item.request?.digest ?? null,
    outcome: item.request ? JSON.stringify(item.outcome ?? null) : null,
  };
}

function splitByName<T extends { name: string }>(items: readonly T[]): T[][] {
  const waves: Array<{ names: Set<string>; items: T[] }> = [];
  for (const item of items) {
    let wave = waves.find((w) => !w.names.has(item.name));
    if (!wave) waves.push((wave = { names: new Set(), items: [] }));
    wave.names.add(item.name);
    wave.items.push(item);
  }
  return waves.map((wave) => wave.items);
}

/** An error the database itself sent (a SQLSTATE): the transaction was rolled back, nothing changed. */
const isDatabaseError = (error: unknown): boolean => typeof (error as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((error as { code: string }).code);

/**
 * A commit that failed with the database's own word changed nothing; one whose connection failed or
 * timed out after the call was sent may have committed: its callers must not be told otherwise.
 */
function commitFailure(error: unknown, description: string): StoreError {
  if (error instanceof StoreError) return error;
  if (isDatabaseError(error)) return toStoreError(error, `${description}: the commit failed`);
  return new StoreError('STORE_UNCONFIRMED', `${description}: the commit was sent but not confirmed (${describeCause(error)})`, { cause: error });
}
