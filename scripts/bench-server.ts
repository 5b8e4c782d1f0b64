// Index server benchmark (not a test): `npm run bench:server`. One run measures, side by side, a raw
// node:dgram echo server (the ceiling) and this server for SEARCH-FILE, RETRIEVE-INFOT and
// REGISTER+DE-REGISTER on SQLite, with 1 and 64 requests in flight; no loss at 256 in flight;
// search latency with 1,000 vs 1,000,000 published files; and registry memory per published file.
// The load generator runs in a worker thread (its own event loop); the servers run in this one.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import type { StoredPeer, RegistryStore } from '../src/registry/index.js';
import { startIndexServer, type IndexServer } from '../src/server/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const NO_LIMIT = { perSecond: 0, burst: 0 };

/** Closed-loop UDP load: `concurrency` slots, each sends a request and waits for its reply (matched by rq). */
const LOAD_GENERATOR = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const socket = dgram.createSocket('udp4');
socket.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: socket.address().port }));
parentPort.on('message', ({ target, slots, concurrency, seconds, warmup }) => {
  socket.setRecvBufferSize(8 * 1024 * 1024);
  const pending = new Map();
  const samples = new Float64Array(4_000_000);
  let count = 0, lost = 0, rq = 1, measuring = false, done = false;
  const next = new Array(concurrency).fill(0);
  const send = (slot) => {
    const list = slots[slot % slots.length];
    const template = list[next[slot]++ % list.length];
    const id = rq++;
    const timer = setTimeout(() => { pending.delete(id); lost++; if (!done) send(slot); }, 2000);
    pending.set(id, { slot, at: process.hrtime.bigint(), timer });
    socket.send(template.replace('__RQ__', String(id)), target, '127.0.0.1');
  };
  socket.removeAllListeners('message');
  socket.on('message', (bytes) => {
    const text = bytes.toString('latin1');
    const at = text.indexOf('"rq":') + 5;
    const id = parseInt(text.slice(at, at + 12), 10);
    const request = pending.get(id);
    if (!request) return;
    pending.delete(id);
    clearTimeout(request.timer);
    if (measuring && count < samples.length) samples[count++] = Number(process.hrtime.bigint() - request.at) / 1000;
    if (!done) send(request.slot);
  });
  for (let slot = 0; slot < concurrency; slot++) send(slot);
  setTimeout(() => {
    measuring = true; lost = 0;
    const started = process.hrtime.bigint();
    setTimeout(() => {
      done = true; measuring = false;
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      const sorted = samples.subarray(0, count).sort();
      const pct = (p) => sorted[Math.min(count - 1, Math.floor(count * p))];
      setTimeout(() => parentPort.postMessage({ requests: count, rps: count / elapsed, p50: pct(0.5), p99: pct(0.99), lost }), 300);
    }, seconds * 1000);
  }, warmup * 1000);
});
`;

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  lost: number;
}

class LoadGenerator {
  private constructor(private readonly worker: Worker, readonly port: number) {}

  static async start(): Promise<LoadGenerator> {
    const worker = new Worker(LOAD_GENERATOR, { eval: true });
    const [{ port }] = (await once(worker, 'message')) as [{ port: number }];
    return new LoadGenerator(worker, port);
  }

  /** `slots[i]` is the request sequence slot i cycles through (templates with __RQ__ for the rq). */
  async run(target: number, slots: string[][], concurrency: number, seconds = SECONDS): Promise<LoadResult> {
    this.worker.postMessage({ target, slots, concurrency, seconds, warmup: 0.5 });
    const [result] = (await once(this.worker, 'message')) as [LoadResult];
    return result;
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

async function startEcho(): Promise<{ port: number; close: () => void }> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  socket.on('message', (bytes, from) => socket.send(bytes, from.port, from.address));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { port: socket.address().port, close: () => socket.close() };
}

/** A store that hands the registry generated records and keeps nothing: the heap holds only the registry. */
function generatedStore(peers: number, filesEach: number): RegistryStore {
  return {
    description: `generated://${peers}x${filesEach}`,
    async *entries() {
      for (let p = 0; p < peers; p++) {
        const name = `peer-${String(p).padStart(6, '0')}`;
        const files = Array.from({ length: filesEach }, (_, f) => ({ name: `file-${p}-${f}.dat`, size: f, sha256: ((p * 7919 + f) >>> 0).toString(16).padStart(64, 'a') }));
        const record: StoredPeer = { name, ip: '127.0.0.1', udpPort: 1, tcpPort: 6000, token: name.padEnd(32, '0').replace(/[^0-9a-f]/g, 'a'), files, registeredAt: 0 };
        yield [name, record] as const;
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

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const rows: string[][] = [];
const row = (what: string, inFlight: number, r: LoadResult, echo?: LoadResult) =>
  rows.push([what, String(inFlight), Math.round(r.rps).toLocaleString('en'), r.p50.toFixed(0), r.p99.toFixed(0), echo ? `${Math.round((100 * r.rps) / echo.rps)} %` : '', String(r.lost)]);

const load = await LoadGenerator.start();
const from = { ip: '127.0.0.1', port: load.port };

// The ceiling: raw echo of a SEARCH-FILE-sized datagram.
const echo = await startEcho();
const echoTemplate = [[`{"type":"SEARCH-FILE","rq":__RQ__,"file":"file-0-7.dat","token":"${'0'.repeat(32)}"}`]];
const echo1 = await load.run(echo.port, echoTemplate, 1);
const echo64 = await load.run(echo.port, echoTemplate, 64);
row('raw dgram echo', 1, echo1);
row('raw dgram echo', 64, echo64);
echo.close();

// Reads: a registry of 1,000 peers × 1 file for SEARCH-FILE; one peer with 20 files for RETRIEVE-INFOT.
const reads = await startIndexServer({ host: '127.0.0.1', port: 0, store: generatedStore(1000, 1), rateLimit: NO_LIMIT });
const token = reads.registry.snapshot().peers[0]!.token;
const search = [[`{"type":"SEARCH-FILE","rq":__RQ__,"file":"file-0-0.dat","token":"${token}"}`]];
for (const c of [1, 64]) row('SEARCH-FILE', c, await load.run(reads.address.port, search, c), c === 1 ? echo1 : echo64);
await reads.close();
const infotServer = await startIndexServer({ host: '127.0.0.1', port: 0, store: generatedStore(50, 20), rateLimit: NO_LIMIT });
const infot = [[`{"type":"RETRIEVE-INFOT","rq":__RQ__,"name":"peer-000007","token":"${infotServer.registry.snapshot().peers[0]!.token}"}`]];
for (const c of [1, 64]) row('RETRIEVE-INFOT (20 files, ~1.1 KB reply)', c, await load.run(infotServer.address.port, infot, c), c === 1 ? echo1 : echo64);
const errorsBefore = await udpRcvbufErrors();
const burst = await load.run(infotServer.address.port, infot, 256);
const bufferDrops = (await udpRcvbufErrors()) - errorsBefore;
row('RETRIEVE-INFOT', 256, burst, echo64);
await infotServer.close();

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
for (const [peers, each] of [[100, 10], [100, 10_000]] as const) {
  const heapBefore = heapAfterGc();
  const server = await startIndexServer({ host: '127.0.0.1', port: 0, store: generatedStore(peers, each), rateLimit: NO_LIMIT });
  const files = server.registry.fileCount;
  if (files >= 1_000_000) bytesPerFile = (heapAfterGc() - heapBefore) / files;
  const t = server.registry.snapshot().peers[0]!.token;
  latency[files] = await load.run(server.address.port, [[`{"type":"SEARCH-FILE","rq":__RQ__,"file":"file-42-7.dat","token":"${t}"}`]], 1);
  row(`SEARCH-FILE with ${files.toLocaleString('en')} files published`, 1, latency[files]!);
  await server.close();
}
await load.stop();

const header = ['scenario', 'in flight', 'requests/s', 'p50 µs', 'p99 µs', 'vs echo', 'lost'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
console.log(`\ndurable mutations/s (64 in flight): ${Math.round(mutations[64]!.rps).toLocaleString('en')}`);
console.log(`receive-buffer drops under 256 in flight: ${bufferDrops} (kernel UDP RcvbufErrors), ${burst.lost} requests without a reply`);
console.log(`registry memory per published file (1,000,000 files): ${Math.round(bytesPerFile)} bytes`);
console.log(`search p50 with 1,000 vs 1,000,000 files: ${latency[1000]!.p50.toFixed(0)} µs vs ${latency[1_000_000]!.p50.toFixed(0)} µs`);
