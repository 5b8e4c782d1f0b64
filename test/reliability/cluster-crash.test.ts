// kill -9 one of three index servers on one PostgreSQL registry, 20 times, at random moments, while
// 20 peers register, publish, remove, update and query through clients that know all three servers
// and fail over between them. A request caught by a crash is resent to another server with the same
// bytes: it takes effect once, whichever server ran it first. At the end the database holds every
// acknowledged mutation (and a timed-out one wholly or not at all), and every server lists the
// registry as the database holds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterDatabase, serversAgreeWithDatabase, startCluster, storedPeers, type Instance } from '../cluster/harness.js';
import { seededRandom } from './lossy-relay.js';
import { report } from './report.js';
import { startWorkload } from './workload.js';

const PEERS = 20;
const CRASHES = 20;
const SEED = 11_002;
/** Two unanswered tries (100 ms) and the client moves on: 30 tries ride over a restart or two. */
const RETRY = { attempts: 30, firstTimeoutMs: 50, maxTimeoutMs: 250, failoverAfter: 2 };
/** Every other peer gives up after 3 tries in 120 ms: its mutations caught by a crash stay unacknowledged. */
const IMPATIENT = { attempts: 3, firstTimeoutMs: 20, maxTimeoutMs: 80, failoverAfter: 2 };
/** A server answers from its copy of the registry, a moment behind the others' changes: reads are checked on peers that stood still this long. */
const STALE_MS = 1000;

const db = await clusterDatabase();

test(`kill -9 one of 3 servers ${CRASHES} times while ${PEERS} peers with failover register, publish and remove: nothing acknowledged is lost, no wrong answer`, { skip: db.skip }, async () => {
  const cluster = await startCluster(3, db.url);
  const prefix = 'ccrash';
  const workload = startWorkload({
    peers: PEERS,
    seed: SEED,
    server: cluster.map((instance) => instance.address),
    retry: RETRY,
    retryFor: (peer) => (peer % 2 === 1 ? IMPATIENT : RETRY),
    prefix,
    publishMax: 8,
    staleMs: STALE_MS,
  });

  const random = seededRandom(SEED);
  const started = performance.now();
  // Restarts run while the next server is picked and killed; never more than two are down at once.
  const down = new Map<Instance, Promise<void>>();
  for (let crash = 0; crash < CRASHES && workload.failure === undefined; crash++) {
    await sleep(100 + random() * 400);
    if (down.size >= 2) await Promise.race(down.values());
    const up = cluster.filter((instance) => !down.has(instance));
    const victim = up[Math.floor(random() * up.length)]!;
    await victim.kill9();
    const restarted = victim.restart().finally(() => down.delete(victim));
    down.set(victim, restarted);
  }
  await Promise.all(down.values());
  await sleep(300);
  const result = await workload.stop();
  const ms = performance.now() - started;

  const lost = result.model.checkFinal(await storedPeers(db, prefix), '127.0.0.1');
  const disagreeing = await serversAgreeWithDatabase(cluster, db, prefix);

  const kinds = ['register', 'deregister', 'publish', 'remove', 'update-contact'] as const;
  const mutations = kinds.reduce((sum, k) => sum + result.byKind[k].completed, 0);
  const unacknowledged = kinds.reduce((sum, k) => sum + result.byKind[k].timedOut, 0);
  report({
    scenario: `kill -9 one of 3 servers ×${CRASHES} (PostgreSQL, client failover)`, load: `${PEERS} peers, continuous`,
    faults: `${CRASHES} SIGKILLs at random moments, each restarted on its port`,
    attempted: result.attempted, completed: result.completed, lost, ms,
    notes: `${mutations} acknowledged mutations, ${unacknowledged} timed out; ${result.retransmissions} retransmissions`,
  });
  assert.equal(workload.failure, undefined);
  assert.deepEqual(result.model.violations.slice(0, 20), [], `${result.model.violations.length} violations; first ones listed`);
  assert.equal(lost, 0);
  assert.equal(result.failed, 0, 'every operation completed or ended in TIMEOUT');
  assert.deepEqual(disagreeing, [], 'every server lists what the database holds');
  assert.ok(mutations >= CRASHES * 5, `only ${mutations} mutations acknowledged`);
  assert.ok(result.retransmissions >= CRASHES, `only ${result.retransmissions} retransmissions`);
});
