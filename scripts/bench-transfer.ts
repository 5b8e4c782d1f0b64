// Benchmark of the transfer protocol (not a test): npm run bench:transfer [-- --mb 100 --runs 1]
//
// In one run: a raw TCP pipe of the file between two Node processes (the ceiling), then a download
// of a 100 MB text file and a 100 MB binary file from a file-server process to a downloader
// process through the real API. Reports MB/s of file payload (hashing, verification, fsync and
// rename included), the ratio to the raw pipe, and the peak RSS of both processes.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { downloadFile, startFileServer, type SharedFile } from '../src/transfer/index.js';
import { natFirstByte } from './bench/nat-first-byte.js';

const TARGETS = { textMBps: 150, binaryMBps: 100, rssMB: 150 };

interface ChildReport {
  port?: number;
  seconds?: number;
  bytes?: number;
  /** CPU seconds (user + system) spent on the transfer, start-up excluded. */
  cpuSeconds?: number;
  maxRssMB: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mb: { type: 'string', default: '100' }, runs: { type: 'string', default: '1' } } });
  process.stdout.write(`Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const size = Number(values.mb) * 1_000_000;
  const runs = Number(values.runs);
  const dir = await mkdtemp(join(tmpdir(), 'p2fs-bench-'));
  try {
    const shareDir = join(dir, 'share');
    await mkdir(shareDir);
    process.stdout.write(`generating ${values.mb} MB text and binary files in ${dir} …\n`);
    await writeInBlocks(join(shareDir, 'text.txt'), size, textBlock);
    await writeInBlocks(join(shareDir, 'binary.bin'), size, (bytes) => randomBytes(bytes));

    const rows: string[][] = [];
    let rawMBps = 0;
    for (let run = 0; run < runs; run++) {
      const raw = await rawPipe(join(shareDir, 'text.txt'));
      rawMBps = Math.max(rawMBps, raw.mbps);
      rows.push(['raw TCP pipe', fmt(raw.mbps), fmt(raw.mbps / 1.048576), '1.00', '', '', fmt(raw.senderRss), fmt(raw.receiverRss), '']);
      for (const [file, target] of [['text.txt', TARGETS.textMBps], ['binary.bin', TARGETS.binaryMBps]] as const) {
        const result = await transfer(shareDir, file, join(dir, `out-${run}`));
        const verdict = result.mbps >= target && Math.max(result.serverRss, result.downloaderRss) < TARGETS.rssMB ? 'meets target' : 'MISSES target';
        rows.push([
          `download ${file}`, fmt(result.mbps), fmt(result.mbps / 1.048576), (result.mbps / raw.mbps).toFixed(2),
          result.serverCpu.toFixed(2), result.downloaderCpu.toFixed(2), fmt(result.serverRss), fmt(result.downloaderRss),
          `${verdict} (≥ ${target} MB/s, < ${TARGETS.rssMB} MB RSS)`,
        ]);
      }
    }
    printTable(['what', 'MB/s', 'MiB/s', 'ratio to raw', 'sender CPU s', 'receiver CPU s', 'sender RSS MB', 'receiver RSS MB', ''], rows);
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

/** Prose-like text: ASCII mostly, with accents, CJK, emoji, quotes and a newline every line. */
const TEXT_LINES = Buffer.from(
  [
    'The quick brown fox jumps over the lazy dog; "quoted" text and a back\\slash.',
    'Ünïcödé text with accents: café, naïve, résumé, Straße, smörgåsbord.',
    '日本語のテキストと中文文本，还有한국어 문장도 있습니다。',
    'Emoji and astral characters: 😀 🚀 👍🏽 🇨🇦 𝄞 and tabs\tbetween\twords.',
    '', // each line ends with a newline
  ].join('\n'),
);

/** `bytes` bytes of text made of whole lines, padded with '.' (stays valid UTF-8). */
function textBlock(bytes: number): Buffer {
  const data = Buffer.alloc(bytes, 0x2e);
  for (let at = 0; at + TEXT_LINES.length <= bytes; at += TEXT_LINES.length) TEXT_LINES.copy(data, at);
  return data;
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

async function transfer(
  shareDir: string, file: string, outDir: string,
): Promise<{ mbps: number; serverRss: number; downloaderRss: number; serverCpu: number; downloaderCpu: number }> {
  const server = startChild(['serve', shareDir]);
  const { port } = await server.next();
  const downloader = startChild(['download', file, String(port), outDir]);
  const done = await downloader.next();
  server.stop();
  const served = await server.next();
  if ((await sha256Of(join(shareDir, file))) !== (await sha256Of(join(outDir, file)))) throw new Error(`${file}: the downloaded copy differs`);
  await rm(outDir, { recursive: true, force: true });
  return {
    mbps: done.bytes! / 1e6 / done.seconds!, serverRss: served.maxRssMB, downloaderRss: done.maxRssMB,
    serverCpu: served.cpuSeconds!, downloaderCpu: done.cpuSeconds!,
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

async function serve(shareDir: string): Promise<void> {
  const entries = new Map<string, SharedFile>();
  for (const name of ['text.txt', 'binary.bin']) {
    const path = join(shareDir, name);
    entries.set(name, { name, path, size: (await stat(path)).size, sha256: '' });
  }
  const server = await startFileServer({ host: '127.0.0.1', shareDir, catalog: { lookup: (name) => entries.get(name) } });
  const ready = process.cpuUsage();
  report({ port: server.address.port });
  process.stdin.resume();
  await once(process.stdin, 'end');
  await server.close();
  report({ cpuSeconds: cpuSecondsSince(ready) });
}

async function download(file: string, port: number, outDir: string): Promise<void> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await downloadFile({ file, holders: [{ name: 'bench', ip: '127.0.0.1', tcpPort: port }], outDir });
  report({ bytes: result.size, seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSecondsSince(cpu) });
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
else if (role === 'serve') await serve(process.argv[3]!);
else if (role === 'download') await download(process.argv[3]!, Number(process.argv[4]), process.argv[5]!);
else await main();
