// The client side of the kernel-loss scenario, run by kernel-loss.test.ts inside the clients'
// network namespace (`ip netns exec NS node --import tsx test/reliability/netns-workload.ts JSON`).
// A process cannot change its network namespace, so the peers run here and report back over stdio:
//   → "WORKLOAD-DONE" once every operation has ended; the test then stops the server;
//   ← any line on stdin: the server is stopped and its store closed;
//   → "RESULT {json}": the tallies, and the store checked against the model of acknowledgements.
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { openStore } from '../../src/stores/index.js';
import type { StoredPeer } from '../../src/registry/index.js';
import { runWorkload, type WorkloadOptions } from './workload.js';

export interface NetnsWorkloadArgs extends Omit<WorkloadOptions, 'sourcePortOf' | 'stop'> {
  ip: string;
  /** The server's store, read once the server has stopped. */
  db: string;
}

export interface NetnsWorkloadResult {
  attempted: number;
  completed: number;
  timedOut: number;
  failed: number;
  lost: number;
  violations: string[];
  violationCount: number;
  ms: number;
}

const args = JSON.parse(process.argv[2]!) as NetnsWorkloadArgs;
const result = await runWorkload(args);
const stdin = createInterface({ input: process.stdin });
process.stdout.write('WORKLOAD-DONE\n');
await once(stdin, 'line');
stdin.close();

const store = await openStore<StoredPeer>(args.db, 'peers');
const stored = (await store.entries()).map(([, peer]) => peer);
await store.close();
const lost = result.model.checkFinal(stored, args.ip);
const summary: NetnsWorkloadResult = {
  attempted: result.attempted,
  completed: result.completed,
  timedOut: result.timedOut,
  failed: result.failed,
  lost,
  violations: result.model.violations.slice(0, 20),
  violationCount: result.model.violations.length,
  ms: result.ms,
};
process.stdout.write(`RESULT ${JSON.stringify(summary)}\n`);
