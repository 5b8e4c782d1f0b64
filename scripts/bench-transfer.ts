// Benchmark of the transfer protocol (not a test): npm run bench:transfer [-- --mb 100 --runs 1 --throttled-mb 24 --big-mb 1000]
//
// In one run: a raw TCP pipe of the file between two Node processes (the ceiling); a download of a
// 100 MB text file and a 100 MB binary file from a file-server process to a downloader process, the
// course's way (one whole-file DOWNLOAD) and by pieces from one holder (ranged DOWNLOADs, every piece
// proven); one holder behind a relay throttled to 4 MB/s against four such holders; and a 1 GB file
// from 8 holders, for the downloader's peak RSS. Reports MB/s of file payload (hashing,
// verification, fsync and rename included), the ratio to the raw pipe, CPU and peak RSS.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { downloadFile, scanFile, startFileServer, type Holder, type SharedFile } from '../src/transfer/index.js';
import { startRelay } from '../test/transfer/relay.js';
import { natFirstByte } from './bench/nat-first-byte.js';
import { textBlock } from './bench/sample-text.js';

const TARGETS = { textMBps: 150, binaryMBps: 100, rssMB: 150, rawRatio: 0.35, swarmSpeedup: 3.5 };

/** The uplink each throttled holder gets in the swarm benchmark. */
const THROTTLE_BYTES_PER_SECOND = 4_000_000;

interface ChildReport {
  port?: number;
  ports?: number[];
  files?: Record<string, { size: number; sha256: string; piecesRoot: string; chunks: number }>;
  bytesByHolder?: Record<string, number>;
  seconds?: number;
  bytes?: number;
  /** CPU seconds (user + system) spent on the transfer, start-up excluded. */
  cpuSeconds?: number;
  maxRssMB: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mb: { type: 'string', default: '100' }, runs: { type: 'string', default: '1' },
      'throttled-mb': { type: 'string', default: '24' }, 'big-mb': { type: 'string', default: '1000' },
      /** `one`, `throttled` or `big`: only that part (after the raw pipe). */
      only: { type: 'string' },
    },
  });
  process.stdout.write(`Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const size = Number(values.mb) * 1_000_000;
  const runs = Number(values.runs);
  const dir = await mkdtemp(join(tmpdir(), 'p2fs-bench-'));
  try {
    const shareDir = join(dir, 'share');
    await mkdir(shareDir);
    process.stdout.write(`generating ${values.mb} MB text and binary, ${values['throttled-mb']} MB and ${values['big-mb']} MB binary files in ${dir} …\n`);
    await writeInBlocks(join(shareDir, 'text.txt'), size, textBlock);
    await writeInBlocks(join(shareDir, 'binary.bin'), size, (bytes) => randomBytes(bytes));
    await writeInBlocks(join(shareDir, 'throttled.bin'), Number(values['throttled-mb']) * 1_000_000, (bytes) => randomBytes(bytes));
    await writeInBlocks(join(shareDir, 'big.bin'), Number(values['big-mb']) * 1_000_000, (bytes) => randomBytes(bytes));

    const rows: string[][] = [];
    const notes: string[] = [];
    for (let run = 0; run < runs; run++) {
      const raw = await rawPipe(join(shareDir, 'text.txt'));
      rows.push(['raw TCP pipe', fmt(raw.mbps), fmt(raw.mbps / 1.048576), '1.00', '', '', fmt(raw.senderRss), fmt(raw.receiverRss), '']);
      const part = (name: string) => values.only === undefined || values.only === name;
      for (const mode of part('one') ? (['course', 'pieces'] as const) : []) {
        for (const [file, target] of [['text.txt', TARGETS.textMBps], ['binary.bin', TARGETS.binaryMBps]] as const) {
          const result = await transfer(shareDir, file, join(dir, `out-${run}`), { mode, holders: 1 });
          const ratio = result.mbps / raw.mbps;
          const meets = result.mbps >= target && Math.max(result.serverRss, result.downloaderRss) < TARGETS.rssMB && (mode === 'course' || ratio >= TARGETS.rawRatio);
          const goal = mode === 'course' ? `≥ ${target} MB/s` : `≥ ${target} MB/s and ≥ ${TARGETS.rawRatio * 100} % of raw`;
          rows.push([
            `${mode === 'course' ? 'whole file' : 'by pieces, 1 holder'}: ${file}`, fmt(result.mbps), fmt(result.mbps / 1.048576), ratio.toFixed(2),
            result.serverCpu.toFixed(2), result.downloaderCpu.toFixed(2), fmt(result.serverRss), fmt(result.downloaderRss),
            `${meets ? 'meets target' : 'MISSES target'} (${goal}, < ${TARGETS.rssMB} MB RSS)`,
          ]);
        }
      }
      if (part('throttled')) {
        const one = await transfer(shareDir, 'throttled.bin', join(dir, `out-${run}`), { mode: 'pieces', holders: 1, throttle: THROTTLE_BYTES_PER_SECOND });
        const four = await transfer(shareDir, 'throttled.bin', join(dir, `out-${run}`), { mode: 'pieces', holders: 4, throttle: THROTTLE_BYTES_PER_SECOND });
        const speedup = four.mbps / one.mbps;
        rows.push(['1 holder at 4 MB/s: throttled.bin', fmt(one.mbps), fmt(one.mbps / 1.048576), '', '', one.downloaderCpu.toFixed(2), '', fmt(one.downloaderRss), '']);
        rows.push([
          '4 holders at 4 MB/s each', fmt(four.mbps), fmt(four.mbps / 1.048576), '', '', four.downloaderCpu.toFixed(2), '', fmt(four.downloaderRss),
          `${speedup >= TARGETS.swarmSpeedup ? 'meets target' : 'MISSES target'} (${speedup.toFixed(2)}× one holder, goal ≥ ${TARGETS.swarmSpeedup}×)`,
        ]);
        notes.push(`4 throttled holders against 1: ${speedup.toFixed(2)}× (bytes by holder: ${JSON.stringify(four.bytesByHolder)})`);
      }
      if (!part('big')) continue;
      const big = await transfer(shareDir, 'big.bin', join(dir, `out-${run}`), { mode: 'pieces', holders: 8 });
      rows.push([
        `8 holders: big.bin (${values['big-mb']} MB)`, fmt(big.mbps), fmt(big.mbps / 1.048576), (big.mbps / raw.mbps).toFixed(2),
        big.serverCpu.toFixed(2), big.downloaderCpu.toFixed(2), fmt(big.serverRss), fmt(big.downloaderRss),
        `${big.downloaderRss < TARGETS.rssMB ? 'meets target' : 'MISSES target'} (downloader < ${TARGETS.rssMB} MB RSS)`,
      ]);
    }
    printTable(['what', 'MB/s', 'MiB/s', 'ratio to raw', 'sender CPU s', 'receiver CPU s', 'sender RSS MB', 'receiver RSS MB', ''], rows);
    for (const note of notes) process.stdout.write(`${note}\n`);
    process.stdout.write(
      '\nMB/s = 10^6 bytes of file payload per second, from the DOWNLOAD to the verified file renamed into place\n' +
        '(hashing, verification and fsync included). CPU s = user + system seconds each process spent on the\n' +
        'transfer; size / the larger of the two is the rate with a core per process and nothing else running.\n',
    );
    await natFirstByte((text) => process.stdout.write(text));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes a file block by block, so that generating 1 GB never holds 1 GB (or skews RSS figures). */
async function writeInBlocks(path: string, size: number, block: (bytes: number) => Buffer): Promise<void> {
  const BLOCK = 4 * 1024 * 1024;
  const handle = await open(path, 'w');
  try {
    for (let written = 0; written < size; written += BLOCK) await handle.write(block(Math.min(BLOCK, size - written)));
  } finally {
    await handle.close();
  }
}

async function rawPipe(path: string): Promise<{ mbps: number; senderRss: number; receiverRss: number }> {
  const sender = startChild(['raw-send', path]);
  const { port } = await sender.next();
  const receiver = startChild(['raw-receive', String(port)]);
  const received = await receiver.next();
  const sent = await sender.next();
  return { mbps: received.bytes! / 1e6 / received.seconds!, senderRss: sent.maxRssMB, receiverRss: received.maxRssMB };
}

interface TransferOptions {
  /** `course`: one whole-file DOWNLOAD; `pieces`: ranged DOWNLOADs, every piece proven. */
  mode: 'course' | 'pieces';
  /** File servers (each its own listening socket, in one process). */
  holders: number;
  /** Each holder behind a relay (in its own process) limited to this many bytes per second. */
  throttle?: number;
}

async function transfer(
  shareDir: string, file: string, outDir: string, options: TransferOptions,
): Promise<{ mbps: number; serverRss: number; downloaderRss: number; serverCpu: number; downloaderCpu: number; bytesByHolder: Record<string, number> }> {
  const server = startChild(['serve', shareDir, String(options.holders), file]);
  const served = await server.next();
  let ports = served.ports!;
  let relay: ReturnType<typeof startChild> | undefined;
  if (options.throttle) {
    relay = startChild(['relay', String(options.throttle), ...ports.map(String)]);
    ports = (await relay.next()).ports!;
  }
  const facts = served.files![file]!;
  const holders: Holder[] = ports.map((port, i) => ({
    name: `holder-${i + 1}`, ip: '127.0.0.1', tcpPort: port, size: facts.size, sha256: facts.sha256,
    ...(options.mode === 'pieces' ? { piecesRoot: facts.piecesRoot, chunks: facts.chunks } : {}),
  }));
  const downloader = startChild(['download', file, JSON.stringify(holders), outDir]);
  const done = await downloader.next();
  relay?.stop();
  server.stop();
  const stopped = await server.next();
  if ((await sha256Of(join(shareDir, file))) !== (await sha256Of(join(outDir, file)))) throw new Error(`${file}: the downloaded copy differs`);
  await rm(outDir, { recursive: true, force: true });
  return {
    mbps: done.bytes! / 1e6 / done.seconds!, serverRss: stopped.maxRssMB, downloaderRss: done.maxRssMB,
    serverCpu: stopped.cpuSeconds!, downloaderCpu: done.cpuSeconds!, bytesByHolder: done.bytesByHolder ?? {},
  };
}

/** A child process of this script in another role; it reports JSON lines on stdout. */
function startChild(args: string[]): { next(): Promise<ChildReport>; stop(): void } {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async next() {
      const { value, done } = await lines.next();
      if (done) throw new Error(`child ${args[0]} exited without reporting`);
      return JSON.parse(value) as ChildReport;
    },
    stop: () => child.stdin.end(),
  };
}

function report(fields: Partial<ChildReport>): void {
  process.stdout.write(`${JSON.stringify({ ...fields, maxRssMB: peakRssMB() })}\n`);
}

/**
 * Peak RSS of this process. Linux's VmHWM belongs to this program alone; getrusage's maxRSS can
 * carry the spawning parent's peak across fork and exec.
 */
function peakRssMB(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS / 1024;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function rawSend(path: string): Promise<void> {
  const server = createServer((socket) => {
    createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(socket);
    socket.on('close', () => {
      server.close();
      report({});
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  report({ port: (server.address() as AddressInfo).port });
}

async function rawReceive(port: number): Promise<void> {
  const started = performance.now();
  const socket = connect({ host: '127.0.0.1', port });
  let bytes = 0;
  for await (const chunk of socket) bytes += (chunk as Buffer).length;
  report({ bytes, seconds: (performance.now() - started) / 1000 });
}

/** `count` file servers sharing `name`, scanned once (as publishing does) and the scan shared. */
async function serve(shareDir: string, count: number, name: string): Promise<void> {
  const entries = new Map<string, SharedFile>();
  const files: NonNullable<ChildReport['files']> = {};
  {
    const path = join(shareDir, name);
    const facts = await scanFile(path);
    entries.set(name, { name, path, size: facts.size, sha256: facts.sha256, utf8: facts.utf8, facts });
    files[name] = { size: facts.size, sha256: facts.sha256, piecesRoot: facts.piecesRoot, chunks: facts.chunks };
  }
  const servers = [];
  for (let i = 0; i < count; i++) servers.push(await startFileServer({ host: '127.0.0.1', shareDir, catalog: { lookup: (name) => entries.get(name) } }));
  const ready = process.cpuUsage();
  report({ ports: servers.map((server) => server.address.port), files });
  process.stdin.resume();
  await once(process.stdin, 'end');
  await Promise.all(servers.map((server) => server.close()));
  report({ cpuSeconds: cpuSecondsSince(ready) });
}

/** A relay in front of each port, each limited to `bytesPerSecond` from the holder to the downloader. */
async function relay(bytesPerSecond: number, ports: number[]): Promise<void> {
  const relays = await Promise.all(ports.map((port) => startRelay(port, { bytesPerSecond })));
  report({ ports: relays.map((r) => r.port) });
  process.stdin.resume();
  await once(process.stdin, 'end');
  await Promise.all(relays.map((r) => r.close()));
}

async function download(file: string, holders: Holder[], outDir: string): Promise<void> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await downloadFile({ file, holders, outDir });
  report({ bytes: result.size, seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSecondsSince(cpu), bytesByHolder: result.bytesByHolder });
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
}

function fmt(value: number): string {
  return value.toFixed(value >= 100 ? 0 : 1);
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`\n${line(header)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);
}

// Last, so that every declaration above is initialised when a role runs.
const role = process.argv[2];
if (role === 'raw-send') await rawSend(process.argv[3]!);
else if (role === 'raw-receive') await rawReceive(Number(process.argv[3]));
else if (role === 'serve') await serve(process.argv[3]!, Number(process.argv[4]), process.argv[5]!);
else if (role === 'relay') await relay(Number(process.argv[3]), process.argv.slice(4).map(Number));
else if (role === 'download') await download(process.argv[3]!, JSON.parse(process.argv[4]!) as Holder[], process.argv[5]!);
else await main();
