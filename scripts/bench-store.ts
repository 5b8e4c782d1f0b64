// Throughput of the durable store: writes one at a time, writes from many concurrent callers (as
// the server's request handlers issue them), and reads. Not a test: figures depend on the machine.
//
//   tsx scripts/bench-store.ts            SQLite in a temporary directory
//   tsx scripts/bench-store.ts <url>      any store URL (a bench-<pid> namespace, cleared afterwards)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type DurableMap } from '../src/stores/index.js';

interface Record {
  name: string;
  size: number;
  peers: string[];
}

const SEQUENTIAL = 5_000;
const CONCURRENT = 20_000;
const WRITERS = 100;

const tempDir = process.argv[2] === undefined ? mkdtempSync(join(tmpdir(), 'p2fs-bench-')) : undefined;
const url = process.argv[2] ?? `sqlite://${join(tempDir!, 'bench.sqlite')}`;
const store = await openStore<Record>(url, `bench-${process.pid}`);
const record = (n: number): Record => ({ name: `file-${n}.txt`, size: n * 1024, peers: ['10.0.0.1:7001', '10.0.0.2:7001'] });

const rows: Array<[string, number, number]> = [];
async function measure(label: string, count: number, run: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await run();
  rows.push([label, count, (performance.now() - started) / 1000]);
}

try {
  // Untimed: lets the JIT compile both paths, so the first rows do not measure start-up.
  for (let n = 0; n < SEQUENTIAL; n++) await store.set(`warm-up-${n}`, record(n));
  for (let n = 0; n < SEQUENTIAL; n++) await store.get(`warm-up-${n}`);
  await store.clear();

  await measure('set, one at a time (awaited)', SEQUENTIAL, async () => {
    for (let n = 0; n < SEQUENTIAL; n++) await store.set(`seq-${n}`, record(n));
  });
  await measure(`set, ${CONCURRENT} issued at once`, CONCURRENT, () =>
    Promise.all(Array.from({ length: CONCURRENT }, (_, n) => store.set(`burst-${n}`, record(n)))),
  );
  await measure(`set, ${WRITERS} writers each awaiting its own`, CONCURRENT, () =>
    Promise.all(Array.from({ length: WRITERS }, (_, writer) => writeInTurn(store, writer, CONCURRENT / WRITERS))),
  );
  await measure('get, one at a time (awaited)', SEQUENTIAL, async () => {
    for (let n = 0; n < SEQUENTIAL; n++) await store.get(`seq-${n}`);
  });
  await measure(`get, ${CONCURRENT} issued at once`, CONCURRENT, () =>
    Promise.all(Array.from({ length: CONCURRENT }, (_, n) => store.get(`burst-${n}`))),
  );
  const total = SEQUENTIAL + 2 * CONCURRENT;
  await measure(`entries() of ${total}`, total, async () => {
    const entries = await store.entries();
    if (entries.length !== total) throw new Error(`entries() returned ${entries.length} of ${total}`);
  });
} finally {
  await store.clear();
  await store.close();
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
}

console.log(`store: ${store.description}\n`);
console.log(`${'operation'.padEnd(40)} ${'count'.padStart(7)} ${'seconds'.padStart(8)} ${'per second'.padStart(11)}`);
for (const [label, count, seconds] of rows) {
  const perSecond = Math.round(count / seconds).toLocaleString('en-US');
  console.log(`${label.padEnd(40)} ${String(count).padStart(7)} ${seconds.toFixed(3).padStart(8)} ${perSecond.padStart(11)}`);
}

async function writeInTurn(target: DurableMap<Record>, writer: number, count: number): Promise<void> {
  for (let n = 0; n < count; n++) await target.set(`writer-${writer}-${n}`, record(n));
}
