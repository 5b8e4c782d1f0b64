// kill -9 the index server (a real scripts/server.ts process on a sqlite store) at random moments
// while 10 peers keep registering, publishing and removing; restart it on the same port and store
// each time, 20 times. The peers ride through on retransmissions (the reply cache dies with the
// process, so a repeat after a restart is executed again: every mutation must be idempotent). At the
// end the store must hold every acknowledged mutation, and a PUBLISH or REMOVE that never got its
// answer wholly or not at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/stores/index.js';
import type { StoredPeer } from '../../src/registry/index.js';
import { seededRandom } from './lossy-relay.js';
import { report } from './report.js';
import { freeUdpPort, startServerProcess, type ServerProcess } from './server-process.js';
import { runWorkload } from './workload.js';

const PEERS = 10;
const CRASHES = 20;
const SEED = 9_001;
/** A restart takes about a second (node + tsx + loading the store): 50, 100, 250, 250 … ms for 7 s rides over one. */
const RETRY = { attempts: 30, firstTimeoutMs: 50, maxTimeoutMs: 250 };
/**
 * Every other peer gives up after 3 tries in 120 ms, so requests caught by a crash time out: their
 * mutations are the unacknowledged ones that must be applied wholly or not at all.
 */
const IMPATIENT = { attempts: 3, firstTimeoutMs: 20, maxTimeoutMs: 80 };

test(`kill -9 the index server ${CRASHES} times while ${PEERS} peers register, publish and remove: every acknowledged mutation survives, nothing is half-applied`, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'p2fs-crash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const db = `sqlite://${join(dir, 'registry.sqlite')}`;
  const port = await freeUdpPort();
  let server: ServerProcess = await startServerProcess(port, db);
  t.after(() => server.kill9());

  let stopping = false;
  const workload = runWorkload({
    peers: PEERS,
    opsPerPeer: Number.MAX_SAFE_INTEGER,
    seed: SEED,
    server: { host: '127.0.0.1', port },
    retry: RETRY,
    retryFor: (peer) => (peer % 2 === 1 ? IMPATIENT : RETRY),
    prefix: 'crash',
    publishMax: 8,
    stop: () => stopping,
  });
  // A workload that fails at once must not leave the loop below restarting servers for nothing.
  let workloadFailed: unknown;
  workload.catch((error: unknown) => (workloadFailed = error));

  const random = seededRandom(SEED);
  const started = performance.now();
  const loadedAfterCrash: number[] = [];
  for (let crash = 0; crash < CRASHES && workloadFailed === undefined; crash++) {
    // A random moment: the peers have requests in flight at every instant, mostly mutations.
    await sleep(80 + random() * 400);
    await server.kill9();
    server = await startServerProcess(port, db);
    loadedAfterCrash.push(server.loaded.files);
  }
  await sleep(200);
  stopping = true;
  const result = await workload;
  const ms = performance.now() - started;
  await server.kill9();

  const store = await openStore<StoredPeer>(db, 'peers');
  const stored = (await store.entries()).map(([, peer]) => peer);
  await store.close();
  const lost = result.model.checkFinal(stored, '127.0.0.1');

  // What a restarted server serves is what the store holds: it loads every record.
  server = await startServerProcess(port, db);
  const files = stored.reduce((sum, peer) => sum + peer.files.length, 0);

  const kinds = ['register', 'deregister', 'publish', 'remove', 'update-contact'] as const;
  const mutations = kinds.reduce((sum, k) => sum + result.byKind[k].completed, 0);
  const unacknowledged = kinds.reduce((sum, k) => sum + result.byKind[k].timedOut, 0);
  report({
    scenario: `server kill -9 ×${CRASHES} (sqlite, real process)`, load: `${PEERS} peers, continuous`, faults: `${CRASHES} SIGKILLs at random moments, restart on the same port and store`,
    attempted: result.attempted, completed: result.completed, lost, ms,
    notes: `${mutations} acknowledged mutations, ${unacknowledged} timed out; ${result.retransmissions} retransmissions`,
  });
  assert.equal(workloadFailed, undefined);
  assert.equal(loadedAfterCrash.length, CRASHES);
  assert.deepEqual(result.model.violations.slice(0, 20), [], `${result.model.violations.length} violations; first ones listed`);
  assert.equal(lost, 0);
  assert.equal(result.failed, 0, 'every operation completed or ended in TIMEOUT');
  assert.deepEqual(server.loaded, { peers: stored.length, files });
  // The test must have tested something: mutations were acknowledged between crashes.
  assert.ok(mutations >= CRASHES * 5, `only ${mutations} mutations acknowledged`);
  // Requests were caught by the crashes: resent to the restarted server, or given up (then checked as "maybe").
  assert.ok(result.retransmissions >= CRASHES, `only ${result.retransmissions} retransmissions`);
  assert.ok(unacknowledged >= 5, `only ${unacknowledged} mutations timed out`);
});
