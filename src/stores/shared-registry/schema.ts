// The shared registry's tables in PostgreSQL, created and migrated by the server itself. Each
// migration runs once, in order, in one transaction, under an advisory lock (servers starting
// together take turns); p2fs_schema records which have run. A database whose schema is newer than
// this server knows is refused: an older server could misread it.
//
// Tables (version 1; version 2 replaced p2fs_commit):
//   p2fs_peers    one row per registered name: its version (the revision of its last change), the
//                 registry's record as JSON text (opaque here), and seen_at on the database's clock
//   p2fs_head     one row: the last revision handed out. Every commit locks it first, so revisions
//                 are handed out in commit order and the change log has no gaps
//   p2fs_changes  the change log: one row per change (rev, name, record; NULL when removed), kept
//                 for LOG_RETENTION so that a server can resume from the last change it applied
//   p2fs_replies  the outcome of each recent mutation by (client ip|port|rq) and digest of its
//                 bytes: a retry through another server gets the same answer and changes nothing
//   p2fs_settings settings every server should share (the expiry time and datagram limit in use)
import type { Pool, PoolClient } from 'pg';

/** Revisions and versions: JavaScript numbers are exact to 2^53, far beyond any commit count. */
export const NOTIFY_CHANNEL = 'p2fs_changes';

/** Advisory lock keys (one 64-bit space per database): migrations, and the one sweeping server. */
export const MIGRATION_LOCK = 0x7032_6673_0001n;
export const SWEEP_LOCK = 0x7032_6673_0002n;

interface Migration {
  version: number;
  what: string;
  sql: string;
}

/**
 * Changes a notification carries at most, and its largest payload (PostgreSQL's limit is 8000
 * bytes): a bigger group notifies only the new head, and the followers read the log.
 */
const CHANGES_IN_NOTIFICATION = 16;
const MAX_NOTIFY_BYTES = 7900;

/**
 * The commit of one group: lock the head row, check each item's expected version against the name's
 * row, apply the items that pass (insert, update or delete, one change-log row each, revisions in
 * item order), keep each answered request's outcome, and wake the followers with the new head (and
 * the changes themselves, when few and small: {"head": N, "changes": [{rev, name, record}…]}).
 * Items name distinct names and distinct requests (the caller guarantees it), so the statements of
 * one CTE never touch a row twice. The head lock comes first, in a statement of its own: the CTE's
 * snapshot is then taken after every earlier commit, and every writer (commits, expiry) takes it.
 */
const COMMIT_FUNCTION = `
CREATE OR REPLACE FUNCTION p2fs_commit(items json, touched text[], reply_ttl interval)
RETURNS TABLE (i integer, kind text, version bigint, record text, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
  head bigint;
  newest bigint;
  applied bigint;
  payload text;
BEGIN
  SELECT h.rev INTO head FROM p2fs_head h WHERE h.id = 1 FOR UPDATE;
  IF cardinality(touched) > 0 THEN
    UPDATE p2fs_peers p SET seen_at = now() WHERE p.name = ANY(touched);
  END IF;
  RETURN QUERY
  WITH x AS (
    SELECT * FROM json_to_recordset(items)
      AS x(i integer, name text, expect bigint, change boolean, record text, request text, digest text, outcome text)
  ),
  -- One primary-key lookup per item, whatever the planner's estimates say: as a join, a table that
  -- grew since it was last analysed is read whole (by seq scan, or by the expiry index) per commit.
  answered AS (
    SELECT x.i, r.outcome FROM x CROSS JOIN LATERAL (
      SELECT r.outcome FROM p2fs_replies r WHERE r.request = x.request AND r.digest = x.digest AND r.expires_at > now() LIMIT 1
    ) r
  ),
  current AS (
    SELECT x.name, p.version, p.record FROM x CROSS JOIN LATERAL (
      SELECT p.version, p.record FROM p2fs_peers p WHERE p.name = x.name LIMIT 1
    ) p
  ),
  decided AS (
    SELECT x.*, a.outcome AS repeated, c.version AS current_version, c.record AS current_record,
           (a.i IS NULL AND coalesce(c.version, 0) = x.expect) AS passes
    FROM x LEFT JOIN answered a ON a.i = x.i LEFT JOIN current c ON c.name = x.name
  ),
  applied AS (
    SELECT d.i, d.name, d.expect, d.record, head + row_number() OVER (ORDER BY d.i) AS rev
    FROM decided d WHERE d.passes AND d.change
  ),
  inserted AS (
    INSERT INTO p2fs_peers (name, version, record, seen_at)
    SELECT a.name, a.rev, a.record, now() FROM applied a WHERE a.expect = 0 AND a.record IS NOT NULL
  ),
  updated AS (
    UPDATE p2fs_peers p SET version = a.rev, record = a.record, seen_at = now()
    FROM applied a WHERE a.expect <> 0 AND a.record IS NOT NULL AND p.name = a.name
  ),
  deleted AS (
    DELETE FROM p2fs_peers p USING applied a WHERE a.expect <> 0 AND a.record IS NULL AND p.name = a.name
  ),
  logged AS (
    INSERT INTO p2fs_changes (rev, name, record) SELECT a.rev, a.name, a.record FROM applied a
  ),
  kept AS (
    INSERT INTO p2fs_replies (request, digest, outcome, expires_at)
    SELECT d.request, d.digest, d.outcome, now() + reply_ttl FROM decided d WHERE d.passes AND d.request IS NOT NULL
    ON CONFLICT (request) DO UPDATE SET digest = excluded.digest, outcome = excluded.outcome, expires_at = excluded.expires_at
  )
  SELECT d.i,
         CASE WHEN d.repeated IS NOT NULL THEN 'repeat' WHEN d.passes THEN 'ok' ELSE 'conflict' END,
         CASE WHEN a.rev IS NOT NULL THEN a.rev
              WHEN d.passes THEN d.expect
              ELSE coalesce(d.current_version, head) END,
         CASE WHEN d.repeated IS NULL AND NOT d.passes THEN d.current_record END,
         d.repeated
  FROM decided d LEFT JOIN applied a ON a.i = d.i;
  -- Revisions are gapless and handed out under the head lock, so the log's last revision says how
  -- many changes this group made: one step down its index, where counting the rows above the head
  -- could scan the whole retained log on every commit (the planner's estimate of them is stale).
  SELECT max(c.rev) INTO newest FROM p2fs_changes c;
  applied := greatest(coalesce(newest, head) - head, 0);
  IF applied > 0 THEN
    UPDATE p2fs_head h SET rev = head + applied WHERE h.id = 1;
    -- A small group travels in the notification itself, sparing the followers a read of the log.
    IF applied <= ${CHANGES_IN_NOTIFICATION} THEN
      SELECT json_build_object('head', head + applied, 'changes', json_agg(json_build_object('rev', c.rev, 'name', c.name, 'record', c.record) ORDER BY c.rev))::text
        INTO payload FROM p2fs_changes c WHERE c.rev BETWEEN head + 1 AND head + applied;
    END IF;
    IF payload IS NULL OR octet_length(payload) > ${MAX_NOTIFY_BYTES} THEN payload := (head + applied)::text; END IF;
    PERFORM pg_notify('${NOTIFY_CHANNEL}', payload);
  END IF;
END
$$`;

/**
 * Expiry by the database's clock, by one server at a time (the others return at once): removes up
 * to \`most\` peers not heard from for \`ttl\`, with one change-log row each, under the head lock.
 */
const EXPIRE_FUNCTION = `
CREATE OR REPLACE FUNCTION p2fs_expire(ttl interval, most integer)
RETURNS TABLE (rev bigint, name text)
LANGUAGE plpgsql AS $$
DECLARE
  head bigint;
  removed bigint;
BEGIN
  IF NOT pg_try_advisory_xact_lock(${SWEEP_LOCK}) THEN RETURN; END IF;
  SELECT h.rev INTO head FROM p2fs_head h WHERE h.id = 1 FOR UPDATE;
  RETURN QUERY
  WITH stale AS (
    SELECT p.name FROM p2fs_peers p WHERE p.seen_at < now() - ttl ORDER BY p.seen_at LIMIT most
  ),
  gone AS (
    DELETE FROM p2fs_peers p USING stale s WHERE p.name = s.name RETURNING p.name
  ),
  numbered AS (
    SELECT head + row_number() OVER (ORDER BY g.name) AS rev, g.name FROM gone g
  ),
  logged AS (
    INSERT INTO p2fs_changes (rev, name, record) SELECT n.rev, n.name, NULL FROM numbered n
  )
  SELECT n.rev, n.name FROM numbered n;
  GET DIAGNOSTICS removed = ROW_COUNT;
  IF removed > 0 THEN
    UPDATE p2fs_head h SET rev = head + removed WHERE h.id = 1;
    PERFORM pg_notify('${NOTIFY_CHANNEL}', (head + removed)::text);
  END IF;
END
$$`;

/** Drops change-log rows older than the retention and outcomes past their time, by one server at a time. */
const PRUNE_FUNCTION = `
CREATE OR REPLACE FUNCTION p2fs_prune(retention interval)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock(${SWEEP_LOCK}) THEN RETURN; END IF;
  DELETE FROM p2fs_changes c WHERE c.at < now() - retention;
  DELETE FROM p2fs_replies r WHERE r.expires_at < now();
END
$$`;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'peers, head, change log, replies and settings; commit, expiry and pruning functions; peers of an earlier keyv store copied in',
    sql: `
      CREATE TABLE p2fs_peers (
        name text PRIMARY KEY,
        version bigint NOT NULL,
        record text NOT NULL,
        seen_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX p2fs_peers_seen_at ON p2fs_peers (seen_at);
      CREATE TABLE p2fs_head (id smallint PRIMARY KEY CHECK (id = 1), rev bigint NOT NULL);
      CREATE TABLE p2fs_changes (
        rev bigint PRIMARY KEY,
        name text NOT NULL,
        record text,
        at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE p2fs_replies (
        request text PRIMARY KEY,
        digest text NOT NULL,
        outcome text NOT NULL,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX p2fs_replies_expires_at ON p2fs_replies (expires_at);
      CREATE TABLE p2fs_settings (name text PRIMARY KEY, value text NOT NULL);
      -- The keyv store (@keyv/postgres, table keyv) that PostgreSQL URLs opened before: its peers, as
      -- they were, each at its own version. The keyv rows stay (nothing reads them any more).
      DO $copy$
      BEGIN
        IF to_regclass('keyv') IS NOT NULL THEN
          INSERT INTO p2fs_peers (name, version, record)
          SELECT substr(k.key, 7), row_number() OVER (ORDER BY k.key), (k.value::json -> 'value')::text
          FROM keyv k WHERE starts_with(k.key, 'peers:');
        END IF;
      END
      $copy$;
      INSERT INTO p2fs_head (id, rev) SELECT 1, coalesce(max(version), 0) FROM p2fs_peers;
      ${COMMIT_FUNCTION};
      ${EXPIRE_FUNCTION};
      ${PRUNE_FUNCTION};
    `,
  },
  {
    version: 2,
    what: 'p2fs_commit looks up only the rows its items name: version 1 counted the change log and could read the kept outcomes whole, per commit',
    sql: COMMIT_FUNCTION,
  },
];

/** The schema version this server reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** Brings the database's schema to SCHEMA_VERSION; returns the versions it applied. */
export async function migrate(pool: Pool): Promise<number[]> {
  const client: PoolClient = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query(`CREATE TABLE IF NOT EXISTS p2fs_schema (
      version integer PRIMARY KEY,
      what text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM p2fs_schema');
    const current = rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `the database holds registry schema version ${current}, newer than this server's ${SCHEMA_VERSION}: run a newer server`,
      );
    }
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO p2fs_schema (version, what) VALUES ($1, $2)', [migration.version, migration.what]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
