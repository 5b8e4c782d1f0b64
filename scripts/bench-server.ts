// Index server benchmark (not a test): `npm run bench:server`. One run measures, side by side, a raw
// node:dgram echo server (the ceiling) and this server for SEARCH-FILE, RETRIEVE-INFOT and
// REGISTER+DE-REGISTER on SQLite, with 1 and 64 requests in flight; no loss at 256 in flight;
// search latency with 1,000 vs 1,000,000 published files; and registry memory per published file.
// The load generator runs in a child process; the servers run in this one, so this process's CPU time
// per request is the server's.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_DATAGRAM_BYTES } from '../src/protocol/index.js';
import type { Registry, StoredPeer, RegistryStore } from '../src/registry/index.js';
import { decodeInfotCursor } from '../src/server/pages/cursor.js';
import { encodePage } from '../src/server/pages/encode.js';
import { infotPage, searchPage } from '../src/server/pages/paging.js';
import { startIndexServer, type IndexServer } from '../src/server/index.js';
import { heapAfterGc } from './bench/heap.js';
import { LoadGenerator, startEcho, type LoadResult } from './bench/udp-load.js';
import { median } from './bench/median.js';

/** Rounds of the read comparison, and seconds each scenario is measured per round. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 1);
/** `BENCH_ONLY=reads` measures only the echo, plain-handler and read rows (for quick iteration). */
const ONLY_READS = process.env.BENCH_ONLY === 'reads';
/**
 * `BENCH_METRICS=1` runs the read servers as `--metrics` does (node's process metrics, the store
 * latency hook, the endpoint) and scrapes each every second, far more often than Prometheus would:
 * compare the read rows with a run without it to see what --metrics costs.
 */
const WITH_METRICS = process.env.BENCH_METRICS === '1';
const NO_LIMIT = { perSecond: 0, burst: 0 };

/**
 * The reference the issue names: a plain handler that parses, looks the file up in a Map and
 * stringifies a reply, with no validation, authorisation, paging or retransmission cache.
 */
/** A server for the read rows: with its metrics served and scraped every second under BENCH_METRICS=1. */
async function startReadServer(store: RegistryStore): Promise<IndexServer> {
  if (!WITH_METRICS) return startIndexServer({ host: '127.0.0.1', port: 0, store, rateLimit: NO_LIMIT });
  const { indexServerMetrics } = await import('../src/metrics/index-server.js');
  const { serveMetrics } = await import('../src/metrics/http.js');
  const metrics = indexServerMetrics();
  const server = await startIndexServer({ host: '127.0.0.1', port: 0, store, rateLimit: NO_LIMIT, onStoreWrite: metrics.observeStoreWrite });
  metrics.attach(server);
  const endpoint = await serveMetrics({ host: '127.0.0.1', port: 0, ...metrics });
  const scraper = setInterval(() => void fetch(endpoint.url).then((reply) => reply.text()), 1000);
  return { ...server, close: async () => {
    clearInterval(scraper);
    await endpoint.close();
    await server.close();
  } };
}

async function startPlainJsonServer(holders: Map<string, object[]>): Promise<{ port: number; close: () => void }> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  socket.on('message', (bytes, from) => {
    const request = JSON.parse(bytes.toString('utf8'));
    const reply = { type: 'SEARCH-FILE', rq: request.rq, file: request.file, peers: holders.get(request.file) ?? [] };
    socket.send(JSON.stringify(reply), from.port, from.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { port: socket.address().port, close: () => socket.close() };
}

/**
 * The token of a generated peer, known without asking the registry: a snapshot of a million files
 * is garbage that the next measured run would pay to collect.
 */
const tokenOf = (name: string): string => name.padEnd(32, '0').replace(/[^0-9a-f]/g, 'a');
const FIRST_PEER = 'peer-000000';

/** A store that hands the registry generated records and keeps nothing: the heap holds only the registry. */
function generatedStore(peers: number, filesEach: number): RegistryStore {
  return {
    description: `generated://${peers}x${filesEach}`,
    async *entries() {
      for (let p = 0; p < peers; p++) {
        const name = `peer-${String(p).padStart(6, '0')}`;
        const files = Array.from({ length: filesEach }, (_, f) => ({ name: `file-${p}-${f}.dat`, size: f, sha256: ((p * 7919 + f) >>> 0).toString(16).padStart(64, 'a') }));
        const record: StoredPeer = { name, ip: '127.0.0.1', udpPort: 1 + (p % 65_000), tcpPort: 6000, token: tokenOf(name), files, registeredAt: 0 };
        // As a store hands records back, parsed from JSON: flat strings. Built here, the names are
        // V8 cons strings (32 bytes more each), which only some code paths happen to flatten.
        yield [name, JSON.parse(JSON.stringify(record)) as StoredPeer] as const;
      }
    },
    set: async () => {},
    delete: async () => {},
  };
}

const udpRcvbufErrors = async (): Promise<number> => {
  const lines = (await readFile('/proc/net/snmp', 'utf8')).split('\n').filter((l) => l.startsWith('Udp:'));
  const [head, values] = lines.map((l) => l.split(/\s+/));
  return Number(values![head!.indexOf('RcvbufErrors')]);
};


const rows: string[][] = [];
const row = (what: string, inFlight: number, r: LoadResult, vsEcho?: number) =>
  rows.push([what, String(inFlight), Math.round(r.rps).toLocaleString('en'), r.p50.toFixed(0), r.p99.toFixed(0), vsEcho === undefined ? '' : `${Math.round(100 * vsEcho)} %`, r.serverCpuUs.toFixed(1), r.loadCpu.toFixed(2), String(r.lost)]);

/** The run with the median throughput (its latencies and CPU figures go with it). */
const medianRun = (runs: LoadResult[]): LoadResult => [...runs].sort((a, b) => a.rps - b.rps)[runs.length >> 1]!;

const load = await LoadGenerator.start();
const from = { ip: '127.0.0.1', port: load.port };

// Reads against the ceiling. The servers all run at once and the load visits them in turn, round
// after round, with an echo run between every two: each ratio compares runs seconds apart, and the
// median over the rounds shrugs off the moments a shared machine is busy elsewhere.
const echo = await startEcho();
const plain = await startPlainJsonServer(new Map([['file-0-0.dat', [{ name: 'peer-000000', ip: '127.0.0.1', tcpPort: 6000, size: 0, sha256: 'a'.repeat(64) }]]]));
// SEARCH-FILE over a registry of 1,000 peers × 1 file; RETRIEVE-INFOT of one peer with 20 files.
const reads = await startReadServer(generatedStore(1000, 1));
const infotServer = await startReadServer(generatedStore(50, 20));
const anyToken = '0'.repeat(32);
const readScenarios = [
  { what: 'raw dgram echo', port: echo.port, slots: [[`{"type":"SEARCH-FILE","rq":__RQ__,"file":"file-0-0.dat","token":"${anyToken}"}`]] },
  { what: 'plain JSON handler (reference)', port: plain.port, slots: [[`{"type":"SEARCH-FILE","rq":__RQ__,"file":"file-0-0.dat","token":"${anyToken}"}`]] },
  // Each request asks for another file (or peer), round the whole registry: no single hot entry.
  {
    what: 'SEARCH-FILE (1,000 files in turn)',
    port: reads.address.port,
    slots: [Array.from({ length: 1000 }, (_, p) => `{"type":"SEARCH-FILE","rq":__RQ__,"file":"file-${p}-0.dat","token":"${tokenOf(FIRST_PEER)}"}`)],
  },
  {
    what: 'RETRIEVE-INFOT (50 peers in turn, ~1.1 KB reply)',
    port: infotServer.address.port,
    slots: [infotServer.registry.names().map((name) => `{"type":"RETRIEVE-INFOT","rq":__RQ__,"name":"${name}","token":"${tokenOf(FIRST_PEER)}"}`)],
  },
];
const infot = readScenarios[3]!.slots;
for (const inFlight of [1, 64]) {
  // Echo runs between every two scenarios (E A E B E C E): each run is compared with the mean of the
  // echo runs either side of it, seconds apart.
  const runs = readScenarios.map(() => [] as LoadResult[]);
  const ratios = readScenarios.map(() => [] as number[]);
  const [ceiling, ...others] = readScenarios;
  for (let round = 0; round < ROUNDS; round++) {
    let echoBefore = await load.run(ceiling!.port, ceiling!.slots, inFlight, ROUND_SECONDS);
    runs[0]!.push(echoBefore);
    for (const [i, scenario] of others.entries()) {
      const run = await load.run(scenario.port, scenario.slots, inFlight, ROUND_SECONDS);
      const echoAfter = await load.run(ceiling!.port, ceiling!.slots, inFlight, ROUND_SECONDS);
      runs[i + 1]!.push(run);
      runs[0]!.push(echoAfter);
      ratios[i + 1]!.push(run.rps / ((echoBefore.rps + echoAfter.rps) / 2));
      echoBefore = echoAfter;
    }
  }
  for (const [i, scenario] of readScenarios.entries()) row(scenario.what, inFlight, medianRun(runs[i]!), i === 0 ? undefined : median(ratios[i]!));
}
echo.close();
plain.close();
await reads.close();
const errorsBefore = await udpRcvbufErrors();
const burst = await load.run(infotServer.address.port, infot, 256);
const bufferDrops = (await udpRcvbufErrors()) - errorsBefore;
row('RETRIEVE-INFOT (50 peers in turn)', 256, burst);
await infotServer.close();
if (ONLY_READS) {
  await load.stop();
  printTable();
  process.exit(0);
}

// Durable mutations on SQLite: each slot registers its own name and de-registers it, over and over.
const dir = await mkdtemp(join(tmpdir(), 'p2fs-bench-'));
const durable: IndexServer = await startIndexServer({ host: '127.0.0.1', port: 0, store: `sqlite://${join(dir, 'bench.sqlite')}`, rateLimit: NO_LIMIT });
const pairs = (n: number) =>
  Array.from({ length: n }, (_, i) => [
    `{"type":"REGISTER","rq":__RQ__,"name":"m-${i}","ip":"${from.ip}","udpPort":${from.port},"tcpPort":6000}`,
    `{"type":"DE-REGISTER","rq":__RQ__,"name":"m-${i}"}`,
  ]);
const mutations: Record<number, LoadResult> = {};
for (const c of [1, 64]) {
  mutations[c] = await load.run(durable.address.port, pairs(c), c);
  row('REGISTER+DE-REGISTER (SQLite, durable)', c, mutations[c]!);
}
await durable.close();
await rm(dir, { recursive: true, force: true });

// Search latency does not depend on how many files are published; memory per published file.
const latency: Record<string, LoadResult> = {};
let bytesPerFile = 0;
let bytesPerListedFile = 0;
/**
 * Pages keep the JSON of what they list (src/server/pages/encode.ts): the registry's memory once every file
 * has been found by SEARCH-FILE and every peer listed by RETRIEVE-INFOT, page after page.
 */
function listEverything(registry: Registry): number {
  for (const name of registry.names()) {
    const peer = registry.peer(name)!;
    for (const file of peer.sortedFileNames()) encodePage(searchPage(registry, file, 1, undefined, MAX_DATAGRAM_BYTES));
    let page = infotPage(peer, 1, undefined, MAX_DATAGRAM_BYTES);
    for (;;) {
      encodePage(page);
      if (page.next === undefined) break;
      page = infotPage(peer, 1, decodeInfotCursor(page.next), MAX_DATAGRAM_BYTES);
    }
  }
  return heapAfterGc();
}
const heapBefore = heapAfterGc();
const million = await startIndexServer({ host: '127.0.0.1', port: 0, store: generatedStore(100, 10_000), rateLimit: NO_LIMIT });
bytesPerFile = (heapAfterGc() - heapBefore) / million.registry.fileCount;
const thousand = await startIndexServer({ host: '127.0.0.1', port: 0, store: generatedStore(100, 10), rateLimit: NO_LIMIT });
// In turn, round after round, like the read comparison: a busy moment must not land on one size only.
const latencyRuns: Record<number, LoadResult[]> = { 1000: [], 1000000: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const server of [thousand, million]) {
    const search = `{"type":"SEARCH-FILE","rq":__RQ__,"file":"file-42-7.dat","token":"${tokenOf(FIRST_PEER)}"}`;
    latencyRuns[server.registry.fileCount]!.push(await load.run(server.address.port, [[search]], 1, ROUND_SECONDS));
  }
}
for (const files of [1000, 1_000_000]) {
  latency[files] = { ...medianRun(latencyRuns[files]!), p50: median(latencyRuns[files]!.map((r) => r.p50)) };
  row(`SEARCH-FILE with ${files.toLocaleString('en')} files published`, 1, latency[files]!);
}
await thousand.close();
bytesPerListedFile = (listEverything(million.registry as unknown as Registry) - heapBefore) / million.registry.fileCount;
await million.close();
// A peer with no files: its record, its place in every index (name, token, contact).
const peersBefore = heapAfterGc();
const manyPeers = await startIndexServer({ host: '127.0.0.1', port: 0, store: generatedStore(100_000, 0), rateLimit: NO_LIMIT });
const bytesPerPeer = (heapAfterGc() - peersBefore) / manyPeers.registry.peerCount;
await manyPeers.close();
await load.stop();

function printTable(): void {
  const header = ['scenario', 'in flight', 'requests/s', 'p50 µs', 'p99 µs', 'vs echo', 'server CPU µs/req', 'load gen cores', 'lost'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  if (WITH_METRICS) console.log('read servers with --metrics: process metrics on, /metrics scraped every second\n');
  console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
}
printTable();
console.log(`\ndurable mutations/s (64 in flight): ${Math.round(mutations[64]!.rps).toLocaleString('en')}`);
console.log(`receive-buffer drops under 256 in flight: ${bufferDrops} (kernel UDP RcvbufErrors), ${burst.lost} requests without a reply`);
console.log(`registry memory per published file (1,000,000 files): ${Math.round(bytesPerFile)} bytes, ${Math.round(bytesPerListedFile)} once every file has been listed`);
console.log(`registry memory per registered peer (100,000 peers, no files): ${Math.round(bytesPerPeer)} bytes`);
console.log(`search p50 with 1,000 vs 1,000,000 files: ${latency[1000]!.p50.toFixed(0)} µs vs ${latency[1_000_000]!.p50.toFixed(0)} µs`);
