// 20 peers × 50 mixed operations through a relay that loses 20 % of datagrams in each direction,
// duplicates 5 % and reorders 5 %. Retry timeouts are scaled down (tens of ms, loopback answers in
// well under one) so the run takes seconds; the number of tries is what is under test.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ATTEMPTS, type RetryPolicy } from '../../src/client/index.js';
import { startTestServer } from '../helpers/server.js';
import { LossyRelay, type Faults } from './lossy-relay.js';
import { report } from './report.js';
import { runWorkload, type WorkloadResult } from './workload.js';

const PEERS = 20;
const OPS_PER_PEER = 50;
const FAULTS: Faults = { loss: 0.2, duplicate: 0.05, reorder: 0.05, holdMs: [5, 40] };
const FAULTS_TEXT = '20 % loss each way, 5 % duplication, 5 % reordering (held 5–40 ms)';
/** Backoff 40, 80, 160, 160, … ms: the default schedule's shape at a twelfth of its length. */
const FAST = { firstTimeoutMs: 40, maxTimeoutMs: 160 } satisfies Partial<RetryPolicy>;
/** Enough tries that losing every one is out of reach (0.36^24 ≈ 2e-11 per request). */
const LARGE_ATTEMPTS = 24;

async function scenario(t: TestContext, seed: number, attempts: number): Promise<WorkloadResult & { relay: LossyRelay; lost: number }> {
  const server = await startTestServer(t);
  const relay = await LossyRelay.start({ target: server.target, seed, up: FAULTS, down: FAULTS });
  t.after(() => relay.close());
  const result = await runWorkload({
    peers: PEERS,
    opsPerPeer: OPS_PER_PEER,
    seed,
    server: relay.address,
    retry: { ...FAST, attempts },
    prefix: `lossy${seed}`,
    sourcePortOf: (client) => relay.upstreamPortFor({ address: '127.0.0.1', port: client.udpPort }),
  });
  const lost = result.model.checkFinal(server.registry.snapshot().peers, '127.0.0.1');
  return { ...result, relay, lost };
}

const faultsSeen = (relay: LossyRelay) => {
  const { up, down } = relay.counts;
  return `${up.dropped + down.dropped} dropped, ${up.duplicated + down.duplicated} duplicated, ${up.reordered + down.reordered} reordered of ${up.received + down.received} datagrams`;
};

function assertNoViolations(result: WorkloadResult): void {
  const { violations } = result.model;
  assert.deepEqual(violations.slice(0, 20), [], `${violations.length} violations; first ones listed`);
}

describe('lossy network: 20 peers × 50 operations through 20 % loss, 5 % duplication, 5 % reordering', () => {
  test(`default retry budget (${DEFAULT_ATTEMPTS} tries): ≥ 99.5 % complete, the rest TIMEOUT, no wrong answer, nothing acknowledged lost`, async (t) => {
    const seed = 20261124;
    const result = await scenario(t, seed, DEFAULT_ATTEMPTS);
    const share = result.completed / result.attempted;
    report({
      scenario: `relay, default budget (${DEFAULT_ATTEMPTS} tries)`, load: `${PEERS} peers × ${OPS_PER_PEER} ops`, faults: `${FAULTS_TEXT}; ${faultsSeen(result.relay)}`,
      attempted: result.attempted, completed: result.completed, lost: result.lost, ms: result.ms, notes: `${result.timedOut} TIMEOUT, ${(share * 100).toFixed(2)} %`,
    });
    assert.equal(result.attempted, PEERS * OPS_PER_PEER);
    assertNoViolations(result);
    assert.equal(result.lost, 0);
    assert.equal(result.failed, 0, 'every operation either completed or ended in TIMEOUT');
    assert.equal(result.completed + result.timedOut, result.attempted);
    // The faults really happened, at about the rates asked for.
    const { up, down } = result.relay.counts;
    const lossRate = (up.dropped + down.dropped) / (up.received + down.received);
    assert.ok(lossRate > 0.17 && lossRate < 0.23, `loss rate ${lossRate}`);
    assert.ok(up.duplicated + down.duplicated > 0 && up.reordered + down.reordered > 0);
    assert.ok(share >= 0.995, `${result.completed} of ${result.attempted} completed (${(share * 100).toFixed(2)} %), ${result.timedOut} TIMEOUT`);
  });

  test(`large retry budget (${LARGE_ATTEMPTS} tries): every operation completes, no wrong answer, nothing lost`, async (t) => {
    const seed = 424242;
    const result = await scenario(t, seed, LARGE_ATTEMPTS);
    report({
      scenario: `relay, large budget (${LARGE_ATTEMPTS} tries)`, load: `${PEERS} peers × ${OPS_PER_PEER} ops`, faults: `${FAULTS_TEXT}; ${faultsSeen(result.relay)}`,
      attempted: result.attempted, completed: result.completed, lost: result.lost, ms: result.ms,
    });
    assertNoViolations(result);
    assert.equal(result.lost, 0);
    assert.equal(result.completed, result.attempted, `${result.timedOut} TIMEOUT, ${result.failed} other failures`);
  });

  test(`tiny retry budget (2 tries): many TIMEOUTs, and each timed-out mutation took effect once or not at all`, async (t) => {
    const seed = 777;
    const result = await scenario(t, seed, 2);
    const mutationsTimedOut = ['register', 'deregister', 'publish', 'remove', 'update-contact'] as const;
    const unsure = mutationsTimedOut.reduce((sum, kind) => sum + result.byKind[kind].timedOut, 0);
    report({
      scenario: 'relay, tiny budget (2 tries)', load: `${PEERS} peers × ${OPS_PER_PEER} ops`, faults: `${FAULTS_TEXT}; ${faultsSeen(result.relay)}`,
      attempted: result.attempted, completed: result.completed, lost: result.lost, ms: result.ms, notes: `${result.timedOut} TIMEOUT, ${unsure} of them mutations`,
    });
    // About 1 request in 8 loses both tries: the model's "maybe" paths are really exercised.
    assert.ok(unsure >= 30, `only ${unsure} mutations timed out`);
    assertNoViolations(result);
    assert.equal(result.lost, 0);
    assert.equal(result.failed, 0);
    assert.equal(result.completed + result.timedOut, result.attempted);
  });
});
