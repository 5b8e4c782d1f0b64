// Shared fixtures of the transfer tests: temp folders, catalogs, a file server on 127.0.0.1 port 0,
// raw TCP clients, and fake holders that misbehave on purpose.
import type { TestContext } from 'node:test';
import { isUtf8 } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FrameEncoder } from '../../src/transfer/codec/frame-encoder.js';
import type { ChunkEncoding } from '../../src/transfer/codec/layout.js';
import { startFileServer, type FileServer, type FileServerOptions, type Holder, type ShareCatalog, type SharedFile } from '../../src/transfer/index.js';

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

export async function tempDir(t: TestContext, prefix = 'p2fs-transfer-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A catalog of exactly the given files in shareDir, as the peer publishes them. */
export async function catalogOf(shareDir: string, names?: string[]): Promise<ShareCatalog> {
  const entries = new Map<string, SharedFile>();
  for (const name of names ?? (await readdir(shareDir))) {
    const path = join(shareDir, name);
    if (!(await stat(path).catch(() => undefined))?.isFile()) continue;
    const data = await readFile(path);
    entries.set(name.normalize('NFC'), { name: name.normalize('NFC'), path, size: data.length, sha256: sha256(data) });
  }
  return { lookup: (name) => entries.get(name) };
}

/** A careless catalog that maps any name to <shareDir>/<name>: the server must defend itself. */
export function carelessCatalog(shareDir: string): ShareCatalog {
  return { lookup: (name) => ({ name, path: join(shareDir, name), size: 0, sha256: '0'.repeat(64) }) };
}

export async function startServer(t: TestContext, options: Partial<FileServerOptions> & Pick<FileServerOptions, 'shareDir'>): Promise<FileServer> {
  const server = await startFileServer({ host: '127.0.0.1', ...options, catalog: options.catalog ?? (await catalogOf(options.shareDir)) });
  t.after(() => server.close());
  return server;
}

export function holderOf(server: { address: { port: number } }, name = 'peer-a', published: Partial<Holder> = {}): Holder {
  return { name, ip: '127.0.0.1', tcpPort: server.address.port, ...published };
}

/** Writes `data` as shareDir/name and returns what a holder publishes for it. */
export async function share(shareDir: string, name: string, data: Uint8Array): Promise<{ size: number; sha256: string }> {
  await writeFile(join(shareDir, name), data);
  return { size: data.length, sha256: sha256(data) };
}

/** Connects to 127.0.0.1:port; the socket is destroyed when the test ends. */
export async function connectTo(t: TestContext, port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** Everything a socket receives until the server closes it, as parsed JSON lines. */
export async function readAllLines(socket: Socket): Promise<Record<string, unknown>[]> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
}

/** Sends one raw line and returns the lines the server answers before closing. */
export async function exchange(t: TestContext, port: number, line: string | Buffer): Promise<Record<string, unknown>[]> {
  const socket = await connectTo(t, port);
  const replies = readAllLines(socket);
  socket.write(line);
  return replies;
}

/** The frames an honest holder sends for `data`, one encoded line per element. */
export function framesFor(data: Uint8Array, options: { rq: number; file: string; fromChunk?: number; encoding?: ChunkEncoding }): string[] {
  const encoding = options.encoding ?? (isUtf8(data) ? 'utf8' : 'base64');
  const encoder = new FrameEncoder({ rq: options.rq, file: options.file, encoding, ...(options.fromChunk ? { fromChunk: options.fromChunk } : {}) });
  const wire = Buffer.concat([...encoder.push(data), ...encoder.end(data.length, sha256(data))]);
  return wire.toString('utf8').split('\n').filter((line) => line !== '').map((line) => `${line}\n`);
}

export interface FakeRequest {
  rq: number;
  file: string;
  fromChunk?: number;
}

/**
 * A holder under the test's control: for each DOWNLOAD it calls `respond` with the socket and the
 * parsed request; what happens next is up to the test (lie, stall, hang up…).
 */
export async function startFakeHolder(
  t: TestContext,
  respond: (socket: Socket, request: FakeRequest) => void,
): Promise<{ server: Server; address: { port: number }; requests: FakeRequest[] }> {
  const requests: FakeRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline === -1 || socket.listenerCount('data') === 0) return;
      socket.removeAllListeners('data');
      const request = JSON.parse(buffered.slice(0, newline)) as FakeRequest;
      requests.push(request);
      respond(socket, request);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { server, address: { port: (server.address() as AddressInfo).port }, requests };
}

/** Text of about `bytes` bytes with multi-byte characters, cut on a character boundary. */
export function sampleText(bytes: number): Buffer {
  const line = Buffer.from('Ünïcödé text — 日本語 — emoji 😀 — "quotes" and \\backslashes\\\tand tabs\n');
  const data = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += line.length) line.copy(data, at);
  let end = bytes;
  while (end > 0 && (data[end - 1]! & 0xc0) === 0x80) end--;
  if (end > 0 && data[end - 1]! >= 0xc0) end--;
  return data.subarray(0, end);
}

/** A child process running a fixture script; killed (if still running) when the test ends. */
export function startFixture(t: TestContext, script: string, args: string[]): { child: ChildProcess; lines: AsyncIterator<string> } {
  const path = new URL(`./fixtures/${script}`, import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
}

/** The next JSON line a fixture prints. */
export async function nextLine<T = Record<string, any>>(lines: AsyncIterator<string>): Promise<T> {
  const { value, done } = await lines.next();
  if (done) throw new Error('the child process ended without printing the expected line');
  return JSON.parse(value) as T;
}

/** Sends SIGKILL and waits until the process is gone. */
export async function kill9(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/**
 * Waits (polling) until `condition` holds: for state with no event to await, like a count. Throws
 * after `limitMs` so that a broken promise fails the test instead of hanging it.
 */
export async function until(condition: () => boolean, what = 'the condition', limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A ranged reply for every piece of `data` (pieces of `pieceBytes` each), as a holder sends it. */
export function rangedReply(data: Buffer, encoding: 'utf8' | 'base64', pieceBytes: number, file: string, rq: number): Buffer {
  const encoder = new FrameEncoder({ rq, file, encoding });
  const pieces = Math.ceil(data.length / pieceBytes);
  const wire: Buffer[] = [];
  for (let piece = 0; piece < pieces; piece++) {
    const offset = piece * pieceBytes;
    encoder.line(Buffer.from(`${JSON.stringify({ type: 'PIECE', rq, file, piece, offset, proof: [] })}\n`));
    wire.push(...encoder.push(data.subarray(offset, offset + pieceBytes)));
    wire.push(...(piece === pieces - 1 ? encoder.end(data.length, sha256(data)) : encoder.endPiece()));
  }
  return Buffer.concat(wire);
}
