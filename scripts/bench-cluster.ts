// Cluster benchmark (not a test): `npm run bench:cluster`. Index servers run as real processes
// (scripts/server.ts) on a fresh PostgreSQL database made for the run (p2fs_bench_<random>, dropped
// after); the load generator runs in a child process on this same machine; the echo ceiling in a
// process of its own, like the servers. It measures:
//   - reads per server as a share of the raw echo server, round after round (reads never touch the
//     database: its transaction count over the read runs is printed beside them)
//   - convergence lag: from PUBLISHED through A to the file listed by B, under a read load on B
//   - durable mutations per second through one server and through three (group commit), and what
//     the database's commit function does alone with groups of 500, the ceiling behind them
//   - --workers 2 on one port against one worker
//
//   npm run bench:cluster                        # PostgreSQL at postgresql://postgres@127.0.0.1:5432
//   P2FS_BENCH_POSTGRES_URL=postgresql://… npm run bench:cluster
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { freeUdpPort, startServerProcess, type ServerProcess } from '../test/reliability/server-process.js';
import { LoadGenerator, SECONDS, type LoadResult } from './bench/udp-load.js';
import { median } from './bench/median.js';

const ADMIN_URL = process.env.P2FS_BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 1);
/** Convergence samples taken at most, and how long the read load on B lasts while they are taken. */
const LAG_SAMPLES = Number(process.env.BENCH_LAG_SAMPLES ?? 1000);
const LAG_LOAD_SECONDS = Number(process.env.BENCH_LAG_SECONDS ?? 6);
const PEERS = 1000;

const tokenOf = (p: number): string => p.toString(16).padStart(32, 'a');
const peerName = (p: number): string => `peer-${String(p).padStart(6, '0')}`;

// ——— the database and the servers ———

const dbName = `p2fs_bench_${randomBytes(4).toString('hex')}`;
const dbUrl = new URL(ADMIN_URL);
dbUrl.pathname = `/${dbName}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const processes: Array<ServerProcess | ChildProcess> = [];
let load: LoadGenerator | undefined;

try {
  // The first server creates the schema; the registry is filled in the database itself (1,000 peers
  // sharing one file each), then every server loads it at start.
  const first = await startServerProcess(await freeUdpPort(), dbUrl.href);
  await first.kill9();
  const db = new pg.Client({ connectionString: dbUrl.href });
  await db.connect();
  await db.query(
    `INSERT INTO p2fs_peers (name, version, record)
     SELECT r.name, r.version, r.record FROM json_to_recordset($1) AS r(name text, version bigint, record text)`,
    [JSON.stringify(Array.from({ length: PEERS }, (_, p) => ({
      name: peerName(p),
      version: p + 1,
      record: JSON.stringify({ name: peerName(p), ip: '127.0.0.1', udpPort: 1, tcpPort: 6000, token: tokenOf(p), files: [{ name: `file-${p}.dat`, size: p }], registeredAt: 0 }),
    })))],
  );
  await db.query('UPDATE p2fs_head SET rev = $1', [PEERS]);

  const ports = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
  const servers = await Promise.all(ports.map((port) => startServerProcess(port, dbUrl.href)));
  processes.push(...servers);
  const echo = await startEchoProcess();
  processes.push(echo.child);
  load = await LoadGenerator.start();

  // ——— reads per server against the echo, round after round ———
  const searches = [Array.from({ length: PEERS }, (_, p) => `{"type":"SEARCH-FILE","rq":__RQ__,"file":"file-${p}.dat","token":"${tokenOf(0)}"}`)];
  const commitsBefore = await transactions(db);
  const readRows: string[][] = [];
  const echoRuns: LoadResult[] = [];
  const serverRuns: LoadResult[][] = servers.map(() => []);
  const ratios: number[][] = servers.map(() => []);
  let readSeconds = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let before = await load.run(echo.port, searches, 64, ROUND_SECONDS);
    echoRuns.push(before);
    for (const [i, port] of ports.entries()) {
      const run = await load.run(port, searches, 64, ROUND_SECONDS);
      const after = await load.run(echo.port, searches, 64, ROUND_SECONDS);
      serverRuns[i]!.push(run);
      echoRuns.push(after);
      ratios[i]!.push(run.rps / ((before.rps + after.rps) / 2));
      before = after;
      readSeconds += ROUND_SECONDS;
    }
  }
  const commitsDuring = (await transactions(db)) - commitsBefore;
  readRows.push(['raw dgram echo (its own process)', '64', fmt(median(echoRuns.map((r) => r.rps))), '', '']);
  for (const [i] of servers.entries()) {
    const run = medianRun(serverRuns[i]!);
    readRows.push([`SEARCH-FILE, server ${'ABC'[i]} (1,000 files in turn)`, '64', fmt(run.rps), `${Math.round(100 * median(ratios[i]!))} %`, `${run.p50.toFixed(0)} / ${run.p99.toFixed(0)}`]);
  }

  // ——— convergence lag under a read load on B ———
  let loaded = true;
  const busy = load.run(ports[1]!, searches, 64, LAG_LOAD_SECONDS).finally(() => (loaded = false));
  const lags = await convergence(ports[0]!, ports[1]!, () => loaded);
  await busy;

  // ——— durable mutations: one server, three servers ———
  const pairs = (slots: number) =>
    Array.from({ length: slots }, (_, i) => [
      `{"type":"REGISTER","rq":__RQ__,"name":"m-${i}","ip":"127.0.0.1","udpPort":${load!.port},"tcpPort":6000}`,
      `{"type":"DE-REGISTER","rq":__RQ__,"name":"m-${i}"}`,
    ]);
  const throughOne = await load.run(ports[0]!, pairs(256), 256, SECONDS);
  const throughThree = await load.run(ports, pairs(768), 768, SECONDS);
  const alone = await commitsAlone(db);

  // ——— --workers 2 against one worker ———
  const workersPort = await freeUdpPort();
  const workers = await startServerProcess(workersPort, dbUrl.href, { args: ['--workers', '2'] });
  processes.push(workers);
  const single: LoadResult[] = [];
  const pair: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    single.push(await load.run(ports[0]!, searches, 64, ROUND_SECONDS));
    pair.push(await load.run(workersPort, searches, 64, ROUND_SECONDS));
  }
  await db.end();

  const table = (header: string[], rows: string[][]) => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  };
  console.log(table(['reads', 'in flight', 'requests/s', 'vs echo', 'p50 / p99 µs'], readRows));
  console.log(`database transactions during ${readSeconds} s of reads on 3 servers: ${commitsDuring} (the change feeds' once-a-second reads; no read asks the database)\n`);
  lags.sort((x, y) => x - y);
  const at = (q: number) => lags[Math.min(lags.length - 1, Math.floor(lags.length * q))]!;
  console.log(`convergence, PUBLISHED through A → listed by B (B under 64 reads in flight), ${lags.length} samples: p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, max ${lags.at(-1)!.toFixed(2)} ms\n`);
  console.log(table(['durable mutations (REGISTER + DE-REGISTER, PostgreSQL)', 'in flight', 'mutations/s', 'p50 / p99 µs', 'lost'], [
    ['through one server', '256', fmt(throughOne.rps), `${throughOne.p50.toFixed(0)} / ${throughOne.p99.toFixed(0)}`, String(throughOne.lost)],
    ['through three servers (aggregate)', '768', fmt(throughThree.rps), `${throughThree.p50.toFixed(0)} / ${throughThree.p99.toFixed(0)}`, String(throughThree.lost)],
    ['p2fs_commit alone, groups of 500 (no server, one connection)', '500', fmt(alone), '', ''],
  ]));
  const [one, two] = [medianRun(single), medianRun(pair)];
  console.log(`\n${table(['SEARCH-FILE, one port', 'in flight', 'requests/s', 'p50 / p99 µs'], [
    ['one server process', '64', fmt(one.rps), `${one.p50.toFixed(0)} / ${one.p99.toFixed(0)}`],
    ['--workers 2', '64', fmt(two.rps), `${two.p50.toFixed(0)} / ${two.p99.toFixed(0)}`],
  ])}`);
  console.log(`--workers 2 / one process: ${(two.rps / one.rps).toFixed(2)}× (load generator on the same ${await cores()}-core machine)`);
} finally {
  await load?.stop();
  for (const process of processes) {
    if ('kill9' in process) await process.kill9();
    else process.kill('SIGKILL');
  }
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}

/**
 * The commit function on its own, from this process: groups of 500 REGISTERs, then the 500
 * DE-REGISTERs, each item with its kept outcome, as a server sends them. Mutations per second.
 */
async function commitsAlone(db: pg.Client): Promise<number> {
  const groups = 20;
  const size = 500;
  let request = 0;
  const started = performance.now();
  for (let g = 0; g < groups / 2; g++) {
    const names = Array.from({ length: size }, (_, i) => `alone-${g}-${i}`);
    const item = (name: string, i: number, expect: number, record: string | null) =>
      ({ i, name, expect, change: true, record, request: `127.0.0.1|1|${request++}`, digest: 'd', outcome: '{"ok":null}' });
    const registered = await db.query<{ i: number; version: string }>('SELECT i, version FROM p2fs_commit($1, $2, $3::interval)', [
      JSON.stringify(names.map((name, i) => item(name, i, 0, JSON.stringify({ name, ip: '127.0.0.1', udpPort: 1, tcpPort: 6000, token: tokenOf(i), files: [], registeredAt: 0 })))),
      [],
      '2 minutes',
    ]);
    const versions = new Map(registered.rows.map((row) => [row.i, Number(row.version)]));
    await db.query('SELECT i FROM p2fs_commit($1, $2, $3::interval)', [JSON.stringify(names.map((name, i) => item(name, i, versions.get(i)!, null))), [], '2 minutes']);
  }
  return (groups * size) / ((performance.now() - started) / 1000);
}

/** Transactions committed in the database so far (PostgreSQL's statistics, flushed every 0.5 s or so). */
async function transactions(db: pg.Client): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const { rows } = await db.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
  return Number(rows[0]!.n);
}

/**
 * Publishes a new file of one peer through A, then asks B for that peer (RETRIEVE-INFOT: a hit, so
 * no read barrier helps it along) until the file is listed: the time from PUBLISHED to listed.
 */
async function convergence(a: number, b: number, loaded: () => boolean): Promise<number[]> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const waiting = new Map<number, (text: string) => void>();
  socket.on('message', (bytes) => {
    const text = bytes.toString();
    const rq = Number(/"rq":(\d+)/.exec(text)?.[1]);
    waiting.get(rq)?.(text);
    waiting.delete(rq);
  });
  let rq = 1;
  const ask = (port: number, message: object) =>
    new Promise<string>((resolve, reject) => {
      const id = rq++;
      const timer = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(message)}`)), 5000);
      waiting.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      socket.send(JSON.stringify({ ...message, rq: id }), port, '127.0.0.1');
    });
  const name = `lag-${randomBytes(3).toString('hex')}`;
  const { port } = socket.address();
  const token = JSON.parse(await ask(a, { type: 'REGISTER', name, ip: '127.0.0.1', udpPort: port, tcpPort: 1 })).token as string;
  const lags: number[] = [];
  // The load generator's warm-up first: samples are taken while it measures.
  await new Promise((resolve) => setTimeout(resolve, 600));
  for (let i = 0; i < LAG_SAMPLES && loaded(); i++) {
    const file = `lag-${i}.dat`;
    // A fresh file each time, alone: the peer's listing is one page.
    await ask(a, { type: 'REMOVE', name, token, files: [`lag-${i - 1}.dat`] });
    await ask(a, { type: 'PUBLISH', name, token, files: [file] });
    const published = performance.now();
    while (!(await ask(b, { type: 'RETRIEVE-INFOT', name, token })).includes(`"${file}"`));
    lags.push(performance.now() - published);
  }
  socket.close();
  return lags;
}

async function startEchoProcess(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', `
    const socket = require('node:dgram').createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    socket.on('message', (bytes, from) => socket.send(bytes, from.port, from.address));
    socket.bind(0, '127.0.0.1', () => process.send(socket.address().port));
  `], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [port] = (await once(child, 'message')) as [number];
  return { child, port };
}

async function cores(): Promise<number> {
  return (await readFile('/proc/cpuinfo', 'utf8')).split('\n').filter((line) => line.startsWith('processor')).length;
}

function medianRun(runs: LoadResult[]): LoadResult {
  return [...runs].sort((x, y) => x.rps - y.rps)[runs.length >> 1]!;
}

function fmt(rps: number): string {
  return Math.round(rps).toLocaleString('en');
}
