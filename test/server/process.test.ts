// The server as a process: start it, register and publish, kill -9 it, restart on the same SQLite
// store: everything acknowledged is there. SIGTERM exits 0 after closing the store; --help lists the
// flags; a bad flag exits 2 naming it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RawClient } from '../helpers/server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'server.ts');

interface Running {
  child: ChildProcess;
  port: number;
  startLine: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts scripts/server.ts and resolves with the port from its start line. */
async function startServer(t: TestContext, args: string[]): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '--host', '127.0.0.1', '--port', '0', '--log-level', 'warn', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  const [startLine] = (await Promise.race([once(lines, 'line'), exited.then((e) => Promise.reject(new Error(`server exited ${JSON.stringify(e)}: ${stderr}`)))])) as [string];
  const match = / listening on udp 127\.0\.0\.1:(\d+) · store (\S+) · loaded (\d+) peers, (\d+) files$/.exec(startLine);
  assert.ok(match, `unexpected start line: ${startLine}`);
  return { child, port: Number(match[1]), startLine, exited };
}

async function tempStore(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'p2fs-server-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return `sqlite://${join(dir, 'registry.sqlite')}`;
}

test('kill -9 loses nothing acknowledged: a restart on the same store serves it', async (t) => {
  const db = await tempStore(t);
  const first = await startServer(t, ['--db', db]);
  const c = await RawClient.open({ host: '127.0.0.1', port: first.port }, t);
  const { token } = (await c.request({ type: 'REGISTER', rq: 1, name: 'durable', ip: c.address.ip, udpPort: c.address.port, tcpPort: 6001 })) as { token: string };
  const files = Array.from({ length: 30 }, (_, i) => ({ name: `file-${i}`, size: i }));
  for (let i = 0; i < files.length; i += 10) {
    assert.equal((await c.request({ type: 'PUBLISH', rq: 2 + i, name: 'durable', files: files.slice(i, i + 10) })).type, 'PUBLISHED');
  }
  assert.equal((await c.request({ type: 'REMOVE', rq: 50, name: 'durable', files: ['file-0'] })).type, 'REMOVED');
  assert.equal((await c.request({ type: 'REGISTER', rq: 51, name: 'leaver', ip: c.address.ip, udpPort: c.address.port, tcpPort: 1 })).type, 'REGISTERED');
  assert.equal((await c.request({ type: 'DE-REGISTER', rq: 52, name: 'leaver' })).type, 'DE-REGISTERED');
  first.child.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');

  const second = await startServer(t, ['--db', db]);
  assert.match(second.startLine, /loaded 1 peers, 29 files$/);
  const again = await RawClient.open({ host: '127.0.0.1', port: second.port }, t);
  const info = (await again.request({ type: 'RETRIEVE-INFOT', rq: 1, name: 'durable', token })) as { files: Array<{ name: string }>; tcpPort: number };
  assert.equal(info.tcpPort, 6001);
  assert.deepEqual(info.files.map((f) => f.name), files.slice(1).map((f) => f.name).sort());
  // The token survived too: the restarted server still knows who may change "durable".
  assert.equal((await again.request({ type: 'PUBLISH', rq: 2, name: 'durable', files: ['after-restart'], token })).type, 'PUBLISHED');
  second.child.kill('SIGTERM');
  assert.deepEqual(await second.exited, { code: 0, signal: null });
});

test('SIGTERM finishes cleanly with exit code 0, and the store is reusable at once', async (t) => {
  const db = await tempStore(t);
  const server = await startServer(t, ['--db', db]);
  const c = await RawClient.open({ host: '127.0.0.1', port: server.port }, t);
  assert.equal((await c.request({ type: 'REGISTER', rq: 1, name: 'term', ip: c.address.ip, udpPort: c.address.port, tcpPort: 1 })).type, 'REGISTERED');
  server.child.kill('SIGTERM');
  assert.deepEqual(await server.exited, { code: 0, signal: null });
  const next = await startServer(t, ['--db', db]);
  assert.match(next.startLine, /loaded 1 peers, 0 files$/);
  next.child.kill('SIGINT');
  assert.deepEqual(await next.exited, { code: 0, signal: null });
});

/** Runs the script to completion and collects its output. */
async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const [code] = await once(child, 'exit');
  return { code, stdout, stderr };
}

test('--help lists every flag with its default; a bad flag exits 2 naming it', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  for (const flag of ['--host', '--port', '--db', '--max-datagram', '--log-level', '--expire-after', '--rate', '--burst']) {
    assert.match(help.stdout, new RegExp(`${flag} .*\\(default: [^)]+\\)`));
  }
  assert.match(help.stdout, /--port VALUE .*\(default: 4000\)/);
  assert.match(help.stdout, /--db VALUE .*\(default: sqlite:\/\/data\/registry\.sqlite\)/);
  const [badPort, unknown, badLevel, badDb] = await Promise.all([
    run(['--port', '70000']),
    run(['--colour']),
    run(['--log-level', 'loud']),
    run(['--port', '0', '--db', 'ftp://nowhere']),
  ]);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--port must be an integer from 0 to 65535, got "70000"/);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option '--colour'/);
  assert.equal(badLevel.code, 2);
  assert.match(badLevel.stderr, /--log-level must be one of debug, info, warn, error, silent, got "loud"/);
  assert.equal(badDb.code, 2);
  assert.match(badDb.stderr, /ftp/);
});
