// PostgreSQL itself restarted under load (pg_ctlcluster … restart), with three servers and ten peers
// that fail over between them. While the database is away, mutations are refused with a reason that
// says so (nothing is acknowledged that is not durable) and reads go on from memory; afterwards the
// servers reconnect, follow the change log again, and lose nothing that was acknowledged.
//
// The restart affects every process on this machine that uses PostgreSQL: this is the only test that
// does it, and it keeps the outage to one restart. It needs root and pg_ctlcluster (skips without).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterDatabase, eventually, serversAgreeWithDatabase, startCluster, storedPeers } from '../cluster/harness.js';
import { report } from './report.js';
import { startWorkload } from './workload.js';

const run = promisify(execFile);
const PEERS = 10;
const SEED = 5_432;
const RETRY = { attempts: 40, firstTimeoutMs: 50, maxTimeoutMs: 250, failoverAfter: 2 };
/** The refusals that leave a mutation's outcome open: the store was away ("nothing was changed" or "may still be applied"). */
const STORE_AWAY = /^the registry store (is unavailable|did not confirm this change)/;

const db = await clusterDatabase();
const version = (() => {
  try {
    return readdirSync('/etc/postgresql').sort().at(-1);
  } catch {
    return undefined;
  }
})();
const cannotRestart =
  db.skip ??
  (process.getuid?.() !== 0 ? 'restarting PostgreSQL needs root' : undefined) ??
  (version === undefined ? 'no /etc/postgresql: pg_ctlcluster cannot restart this PostgreSQL' : undefined);

test('PostgreSQL restarted mid-load: mutations refused saying so meanwhile, servers reconnect, nothing acknowledged lost', { skip: cannotRestart }, async () => {
  const cluster = await startCluster(3, db.url);
  const prefix = 'pgrestart';
  const workload = startWorkload({
    peers: PEERS,
    seed: SEED,
    server: cluster.map((instance) => instance.address),
    retry: RETRY,
    prefix,
    staleMs: 2000,
    unsure: (reason) => STORE_AWAY.test(reason),
  });
  const started = performance.now();
  await sleep(1500);
  const restart = performance.now();
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version!, 'main', 'restart'], { timeout: 60_000 });
  const outageMs = performance.now() - restart;
  const listening = () => db.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND query = 'LISTEN p2fs_changes'", [db.name]);
  const relistened = await eventually(async () => Number((await listening().catch(() => [{ n: '0' }]))[0]!.n) === 3, 20_000, 200);
  await sleep(1500);
  const result = await workload.stop();
  const ms = performance.now() - started;

  const lost = result.model.checkFinal(await storedPeers(db, prefix), '127.0.0.1');
  const disagreeing = await serversAgreeWithDatabase(cluster, db, prefix);
  report({
    scenario: 'PostgreSQL restarted under load (3 servers)', load: `${PEERS} peers, continuous`,
    faults: `pg_ctlcluster restart (${(outageMs / 1000).toFixed(1)} s)`,
    attempted: result.attempted, completed: result.completed, lost, ms,
    notes: `${result.unsure} mutations refused as the store was away, ${result.timedOut - result.unsure} timed out`,
  });
  assert.equal(workload.failure, undefined);
  assert.deepEqual(result.model.violations.slice(0, 20), [], `${result.model.violations.length} violations; first ones listed`);
  assert.equal(lost, 0);
  assert.equal(result.failed, 0, 'every operation completed, timed out, or was refused because the store was away');
  assert.ok(result.unsure >= 1, 'mutations during the outage were refused with a reason that says so');
  assert.ok(relistened, 'every server listens to the change log again');
  assert.deepEqual(disagreeing, [], 'every server lists what the database holds');
});
