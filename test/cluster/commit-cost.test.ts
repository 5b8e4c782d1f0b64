// What one commit reads: p2fs_commit must look up only the rows its items name, however large the
// registry, the retained change log and the kept outcomes have grown, and whatever the planner's
// statistics say. Tables that grew since they were last analysed are the normal case (the log and
// the outcomes grow by every mutation): a commit that read them whole slowed down with every
// mutation until autovacuum caught up. Counted by PostgreSQL's own per-transaction statistics.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { migrate } from '../../src/stores/shared-registry/schema.js';
import { clusterDatabase } from './harness.js';

const db = await clusterDatabase();
const skip = db.skip;
/** Rows in each table before the commit: far more than a commit of a few items may read. */
const ROWS = 20_000;
const EACH = 40;

test('one commit reads a few rows per item, not the registry, the change log or the kept outcomes', { skip }, async () => {
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  after(() => pool.end());
  await migrate(pool);
  for (const table of ['p2fs_peers', 'p2fs_changes', 'p2fs_replies']) {
    // No analysis during the test: the statistics stay those of empty tables.
    await pool.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
  }
  await pool.query(`INSERT INTO p2fs_peers (name, version, record) SELECT 'peer-' || g, g, '{}' FROM generate_series(1, ${ROWS}) g`);
  await pool.query(`INSERT INTO p2fs_changes (rev, name, record) SELECT g, 'peer-' || g, '{}' FROM generate_series(1, ${ROWS}) g`);
  await pool.query(`INSERT INTO p2fs_replies (request, digest, outcome, expires_at)
                    SELECT '127.0.0.1|1|' || g, 'd', '{}', now() + interval '1 hour' FROM generate_series(1, ${ROWS}) g`);
  await pool.query('UPDATE p2fs_head SET rev = $1', [ROWS]);

  const items = [
    ...Array.from({ length: EACH }, (_, k) => ({ name: `new-${k}`, expect: 0, record: '{"new":true}' })),
    ...Array.from({ length: EACH }, (_, k) => ({ name: `peer-${k + 1}`, expect: k + 1, record: '{"changed":true}' })),
    ...Array.from({ length: EACH }, (_, k) => ({ name: `peer-${EACH + k + 1}`, expect: EACH + k + 1, record: null })),
  ].map((item, i) => ({ i, ...item, change: true, request: `127.0.0.2|1|${i}`, digest: 'd', outcome: '{"ok":true}' }));

  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows: outcomes } = await client.query<{ kind: string }>('SELECT kind FROM p2fs_commit($1, $2, $3::interval)', [
      JSON.stringify(items),
      [],
      '2 minutes',
    ]);
    assert.deepEqual(outcomes.map((o) => o.kind), items.map(() => 'ok'));
    const { rows } = await client.query<{ relname: string; read: string }>(
      `SELECT relname, coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS read
       FROM pg_stat_xact_user_tables WHERE relname IN ('p2fs_peers', 'p2fs_changes', 'p2fs_replies') ORDER BY relname`,
    );
    for (const { relname, read } of rows) {
      assert.ok(Number(read) <= 4 * items.length, `p2fs_commit read ${read} rows of ${relname} for ${items.length} items`);
    }
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
});
