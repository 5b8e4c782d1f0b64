// The server as a process: start it, register and publish, kill -9 it, restart on the same SQLite
// store: everything acknowledged is there. SIGTERM and SIGHUP exit 0 after closing the store; --help
// lists the flags with their variables; P2FS_HOST, P2FS_PORT and P2FS_DB work; a bad flag or a busy
// port is one sentence, exit 2.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RawClient } from '../helpers/server.js';
import { freeUdpPort } from '../reliability/server-process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'server.ts');

interface Running {
  child: ChildProcess;
  port: number;
  startLine: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts scripts/server.ts (on 127.0.0.1, a free port, unless `env` says where) and resolves with the port from its start line. */
async function startServer(t: TestContext, args: string[], env: Record<string, string> = {}): Promise<Running> {
  const where = env.P2FS_HOST || env.P2FS_PORT ? [] : ['--host', '127.0.0.1', '--port', '0'];
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...where, '--log-level', 'warn', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
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
async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const [code] = await once(child, 'exit');
  return { code, stdout, stderr };
}

test('--help lists every flag with its variable and default; --version answers; a bad flag exits 2 in one line', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  for (const flag of ['--host', '--port', '--db', '--max-datagram', '--log-level', '--expire-after', '--rate', '--burst']) {
    assert.match(help.stdout, new RegExp(`${flag} .*\\(default: [^)]+\\)`));
  }
  assert.match(help.stdout, /--port PORT .*\(default: \$P2FS_PORT, else 4000\)/);
  assert.match(help.stdout, /--db URL .*\(default: \$P2FS_DB, else sqlite:\/\/data\/registry\.sqlite\)/);
  assert.match(help.stdout, /--host IP .*\(default: \$P2FS_HOST, else 0\.0\.0\.0\)/);
  assert.match(help.stdout, /^\s+-h, --help/m);
  const [short, version] = await Promise.all([run(['-h']), run(['-V'])]);
  assert.equal(short.stdout, help.stdout);
  assert.match(version.stdout, /^p2fs-server \d+\.\d+\.\d+\n$/);

  const [badPort, unknown, badLevel, badDb, badEnv] = await Promise.all([
    run(['--port', '70000']),
    run(['--colour']),
    run(['--log-level', 'loud']),
    run(['--port', '0', '--db', 'ftp://nowhere']),
    run([], { P2FS_PORT: 'four' }),
  ]);
  assert.equal(badPort.code, 2);
  assert.equal(badPort.stderr, 'p2fs-server: --port must be a port from 0 (any free one) to 65535; got "70000"\n(run with --help for the flags)\n');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^p2fs-server: unknown flag --colour\n/);
  assert.equal(badLevel.code, 2);
  assert.match(badLevel.stderr, /--log-level must be one of debug, info, warn, error, silent; got "loud"/);
  assert.equal(badDb.code, 2);
  assert.match(badDb.stderr, /ftp/);
  assert.equal(badEnv.code, 2);
  assert.match(badEnv.stderr, /\$P2FS_PORT must be a port from 0 \(any free one\) to 65535; got "four"/);
  for (const failed of [badPort, unknown, badLevel, badDb, badEnv]) assert.doesNotMatch(failed.stderr, /Usage|--burst/, 'one line, not the whole help');
});

test('P2FS_HOST, P2FS_PORT and P2FS_DB stand in for their flags; a flag wins over its variable', async (t) => {
  const db = await tempStore(t);
  const port = await freeUdpPort();
  const server = await startServer(t, [], { P2FS_HOST: '127.0.0.1', P2FS_PORT: String(port), P2FS_DB: db });
  assert.equal(server.port, port);
  assert.match(server.startLine, new RegExp(`store ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ·`));
  server.child.kill('SIGTERM');
  assert.equal((await server.exited).code, 0);
  const flagWins = await startServer(t, ['--host', '127.0.0.1', '--port', '0'], { P2FS_PORT: String(port), P2FS_DB: db });
  assert.notEqual(flagWins.port, port);
  flagWins.child.kill('SIGTERM');
  await flagWins.exited;
});

test('a port in use is one sentence saying what to do, exit 2, no stack trace', async (t) => {
  const first = await startServer(t, ['--db', 'memory://']);
  const second = await run(['--host', '127.0.0.1', '--port', String(first.port), '--db', 'memory://', '--log-level', 'warn']);
  assert.equal(second.code, 2);
  assert.equal(second.stderr, `p2fs-server: cannot listen on UDP 127.0.0.1:${first.port}: the port is in use (another index server?); stop that one, or pick another port with --port or $P2FS_PORT\n`);
  first.child.kill('SIGTERM');
  assert.equal((await first.exited).code, 0);
});

test('SIGHUP (the terminal closed) stops the server as cleanly as SIGTERM: exit 0, the store closed', async (t) => {
  const db = await tempStore(t);
  const server = await startServer(t, ['--db', db]);
  const c = await RawClient.open({ host: '127.0.0.1', port: server.port }, t);
  assert.equal((await c.request({ type: 'REGISTER', rq: 1, name: 'hup', ip: c.address.ip, udpPort: c.address.port, tcpPort: 1 })).type, 'REGISTERED');
  server.child.kill('SIGHUP');
  assert.deepEqual(await server.exited, { code: 0, signal: null });
  const next = await startServer(t, ['--db', db]);
  assert.match(next.startLine, /loaded 1 peers, 0 files$/);
  next.child.kill('SIGTERM');
  await next.exited;
});
