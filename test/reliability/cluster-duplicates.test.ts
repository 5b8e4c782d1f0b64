// Duplicates delivered to another server of the registry: the lossy relay in front of three servers
// on one PostgreSQL registry loses and reorders datagrams, and sends a copy of many requests to a
// server other than the client's own, 50 to 400 ms later, often after the client's next change (a
// DE-REGISTER copy after the next REGISTER, a PUBLISH copy after a REMOVE). Each request must take
// effect once, and a late copy must never undo a later change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterDatabase, serversAgreeWithDatabase, startCluster, storedPeers } from '../cluster/harness.js';
import { LossyRelay } from './lossy-relay.js';
import { report } from './report.js';
import { runWorkload } from './workload.js';

const PEERS = 12;
const OPS_PER_PEER = 60;
const SEED = 31_337;

const db = await clusterDatabase();

test('a lossy relay sends delayed copies of requests to other servers: each takes effect once, none undoes a later change', { skip: db.skip }, async (t) => {
  const cluster = await startCluster(3, db.url);
  const relay = await LossyRelay.start({
    target: cluster.map((instance) => instance.address),
    seed: SEED,
    up: { loss: 0.1, duplicate: 0.4, reorder: 0.05, holdMs: [5, 40] },
    down: { loss: 0.1, duplicate: 0, reorder: 0.05, holdMs: [5, 40] },
    duplicatesElsewhere: { delayMs: [50, 400] },
  });
  t.after(() => relay.close());
  const prefix = 'cdup';
  const started = performance.now();
  const result = await runWorkload({
    peers: PEERS,
    opsPerPeer: OPS_PER_PEER,
    seed: SEED,
    server: relay.address,
    retry: { attempts: 12, firstTimeoutMs: 60, maxTimeoutMs: 250 },
    prefix,
    sourcePortOf: (client) => relay.upstreamPortFor({ address: '127.0.0.1', port: client.udpPort }),
    staleMs: 1000,
  });
  const ms = performance.now() - started;
  // Let the last delayed copies arrive before the final state is read.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const lost = result.model.checkFinal(await storedPeers(db, prefix), '127.0.0.1');
  const disagreeing = await serversAgreeWithDatabase(cluster, db, prefix);
  report({
    scenario: 'duplicates to another server (3 servers, PostgreSQL)', load: `${PEERS} peers × ${OPS_PER_PEER} ops`,
    faults: `10 % loss each way, 40 % of requests copied to another server 50–400 ms later (${relay.deliveredElsewhere} copies)`,
    attempted: result.attempted, completed: result.completed, lost, ms,
    notes: `${result.timedOut} timed out; ${result.retransmissions} retransmissions`,
  });
  assert.deepEqual(result.model.violations.slice(0, 20), [], `${result.model.violations.length} violations; first ones listed`);
  assert.equal(lost, 0);
  assert.equal(result.failed, 0);
  assert.deepEqual(disagreeing, []);
  assert.ok(relay.deliveredElsewhere >= 100, `only ${relay.deliveredElsewhere} copies reached another server`);
});
