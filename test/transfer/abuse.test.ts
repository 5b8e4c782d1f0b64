// Hostile and broken clients against a real file server: idle crowds, slow-loris, endless lines,
// garbage, path traversal, too many downloads or connections. Each is cut off with DOWNLOAD-ERROR
// (rq null when unreadable) and the server keeps serving everyone else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeTcpFrame } from '../../src/protocol/index.js';
import { downloadFile, type FileServer, type ShareCatalog } from '../../src/transfer/index.js';
import { carelessCatalog, catalogOf, connectTo, exchange, holderOf, readAllLines, share, startServer, tempDir, until } from './helpers.js';
import type { TestContext } from 'node:test';

/** A guard against a hang (a socket that never closes), not a timing goal. */
const HANG_GUARD = { timeout: 120_000 };

/** A normal download from `server` still works and verifies. */
async function stillServes(t: TestContext, server: FileServer, file = 'shared.txt'): Promise<void> {
  const outDir = await tempDir(t);
  const result = await downloadFile({ file, outDir, holders: [holderOf(server)] });
  assert.equal(result.size, (await readFile(result.path)).length);
}

/** Each reply is a schema-valid DOWNLOAD-ERROR; returns them. */
function downloadErrors(replies: Record<string, unknown>[]): Array<{ rq: number | null; reason: string }> {
  return replies.map((reply) => {
    const frame = decodeTcpFrame(Buffer.from(JSON.stringify(reply)));
    assert.equal(frame.type, 'DOWNLOAD-ERROR', `expected DOWNLOAD-ERROR, got ${JSON.stringify(reply).slice(0, 200)}`);
    return frame as { rq: number | null; reason: string };
  });
}

test('1,000 idle connections: a normal download still works, then every idle one is cut off', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  await share(shareDir, 'shared.txt', Buffer.from('still here\n'));
  const server = await startServer(t, { shareDir, requestTimeoutMs: 3000 });
  const idle = await Promise.all(Array.from({ length: 1000 }, () => connectTo(t, server.address.port)));
  const replies = idle.map((socket) => readAllLines(socket));
  await until(() => server.openConnections() >= 1000, 'the server holding 1,000 connections', 2500);

  await stillServes(t, server);

  for (const reply of await Promise.all(replies)) {
    assert.deepEqual(downloadErrors(reply), [{ type: 'DOWNLOAD-ERROR', rq: null, reason: 'no complete DOWNLOAD line within 3000 ms of connecting' }]);
  }
  await until(() => server.openConnections() === 0, 'every connection closed');
});

test('a client sending one byte a second is cut off at the request deadline', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  await share(shareDir, 'shared.txt', Buffer.from('x'));
  const server = await startServer(t, { shareDir, requestTimeoutMs: 2500 });
  const socket = await connectTo(t, server.address.port);
  const replies = readAllLines(socket);
  const request = Buffer.from('{"type":"DOWNLOAD","rq":1,"file":"shared.txt"}\n');
  let sent = 0;
  const trickle = setInterval(() => {
    if (!socket.destroyed && sent < request.length) socket.write(request.subarray(sent, ++sent));
  }, 1000);
  t.after(() => clearInterval(trickle));

  await stillServes(t, server);
  const [error] = downloadErrors(await replies);
  clearInterval(trickle);
  assert.deepEqual(error, { type: 'DOWNLOAD-ERROR', rq: null, reason: 'no complete DOWNLOAD line within 2500 ms of connecting' });
  assert.ok(sent <= 4, `cut off after ${sent} bytes`);
});

test('a 10 MB line without a newline is cut off at the 16 KiB line limit', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  await share(shareDir, 'shared.txt', Buffer.from('x'));
  const server = await startServer(t, { shareDir });
  const socket = await connectTo(t, server.address.port);
  const replies = readAllLines(socket);
  socket.write(Buffer.alloc(10 * 1024 * 1024, 'a'));

  const errors = downloadErrors(await replies);
  assert.deepEqual(errors, [{ type: 'DOWNLOAD-ERROR', rq: null, reason: 'line is over the 16384-byte limit without a newline' }]);
  await stillServes(t, server);
});

test('garbage lines get DOWNLOAD-ERROR naming the problem, with rq when it could be read', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  await share(shareDir, 'shared.txt', Buffer.from('x'));
  const server = await startServer(t, { shareDir });
  const cases: Array<[string | Buffer, number | null, RegExp]> = [
    ['hello\n', null, /^line is not JSON$/],
    ['\n', null, /not JSON/],
    ['[1,2,3]\n', null, /expected a JSON object, got an array/],
    ['"DOWNLOAD"\n', null, /expected a JSON object/],
    [Buffer.from([0xff, 0xfe, 0x7b, 0x7d, 0x0a]), null, /not valid UTF-8/],
    ['{"type":"DOWNLOAD","rq":5}\n', 5, /file is required/],
    ['{"type":"UPLOAD","rq":6,"file":"shared.txt"}\n', 6, /type "UPLOAD" is not a request this peer knows; expected one of DOWNLOAD/],
    ['{"rq":7,"file":"shared.txt"}\n', 7, /type is required/],
    ['{"type":"DOWNLOAD","rq":-1,"file":"shared.txt"}\n', null, /rq must be an integer from 0 to 2147483647, got -1/],
    ['{"type":"DOWNLOAD","rq":"8","file":"shared.txt"}\n', null, /rq must be an integer/],
    ['{"type":"DOWNLOAD","rq":9,"file":"shared.txt","fromChunk":0}\n', 9, /fromChunk must be an integer from 1 to/],
    ['{"type":"DOWNLOAD","rq":10,"file":"shared.txt","extra":true}\n', 10, /unknown field "extra"/],
    ['{"type":"DOWNLOAD","rq":11,"file":"shared.txt","fromChunk":5}\n', 11, /fromChunk 5 is past the last chunk \(1\) of file "shared.txt"/],
    ['{"type":"DOWNLOAD","rq":12,"file":"nope.txt"}\n', 12, /^file "nope.txt" is not shared by this peer$/],
    ['{"type":"DOWNLOAD","rq":13,"file":"shared.txt"', null, /connection ended before a complete DOWNLOAD line/],
  ];
  for (const [line, rq, reason] of cases) {
    const socket = await connectTo(t, server.address.port);
    const replies = readAllLines(socket);
    if (typeof line === 'string' && !line.endsWith('\n')) socket.end(line);
    else socket.write(line);
    const errors = downloadErrors(await replies);
    assert.equal(errors.length, 1, String(line));
    assert.equal(errors[0]!.rq, rq, String(line));
    assert.match(errors[0]!.reason, reason);
  }
  await stillServes(t, server);
});

test('50 path-traversal names are all refused, even by a careless catalog, and nothing outside leaks', HANG_GUARD, async (t) => {
  const root = await tempDir(t);
  const shareDir = join(root, 'share');
  const outside = join(root, 'outside');
  await mkdir(shareDir);
  await mkdir(join(outside, 'dir'), { recursive: true });
  const SECRET = 'TOP-SECRET-CONTENT';
  await writeFile(join(outside, 'secret.txt'), SECRET);
  await writeFile(join(outside, 'dir', 'secret.txt'), SECRET);
  await writeFile(join(shareDir, 'shared.txt'), 'public');
  await mkdir(join(shareDir, 'subdir'));
  await writeFile(join(shareDir, 'subdir', 'inner.txt'), SECRET);
  await symlink(join(outside, 'secret.txt'), join(shareDir, 'link-to-secret'));
  await symlink('../outside/secret.txt', join(shareDir, 'relative-link'));
  await symlink(join(outside, 'dir'), join(shareDir, 'link-to-dir'));
  await symlink(join(shareDir, 'link-to-secret'), join(shareDir, 'link-chain'));
  await symlink(join(shareDir, 'link-loop'), join(shareDir, 'link-loop'));
  await symlink(join(outside, 'missing'), join(shareDir, 'dangling'));

  const careless = carelessCatalog(shareDir);
  const catalog: ShareCatalog = {
    // A catalog bug that maps an innocent name to a path outside the folder.
    lookup: (name) => (name === 'innocent.txt' ? { name, path: join(outside, 'secret.txt'), size: SECRET.length, sha256: '0'.repeat(64) } : careless.lookup(name)),
  };
  const server = await startServer(t, { shareDir, catalog });

  const attacks = [
    '../secret.txt', '../../outside/secret.txt', '..\\secret.txt', '..\\..\\outside\\secret.txt', '..', '.', '/etc/passwd', '/',
    `${outside}/secret.txt`, 'C:\\Windows\\win.ini', '\\\\server\\share\\x', '%2e%2e%2fsecret.txt', '%2e%2e/secret.txt', '..%2fsecret.txt',
    '%252e%252e%252fsecret.txt', '..%252f..%252foutside%252fsecret.txt', '..%c0%afsecret.txt', '..%c1%9csecret.txt', '%00', '\u0000',
    'shared.txt\u0000.jpg', 'a\u0000b', '....//secret.txt', '..././secret.txt', '.../secret.txt', '\u2025/secret.txt', '\u2025',
    '\uff0e\uff0e\uff0fsecret.txt', '..\u2215secret.txt', '..\u2044secret.txt', '..\uff0fsecret.txt', '\u2215etc\u2215passwd',
    'link-to-secret', 'relative-link', 'link-chain', 'link-loop', 'dangling', 'link-to-dir', 'link-to-dir/secret.txt', 'subdir',
    'subdir/inner.txt', 'innocent.txt', '~/secret.txt', 'file:///etc/passwd', './shared.txt', 'shared.txt/.', 'shared.txt/../../outside/secret.txt',
    '..\t', '\n../secret.txt', 'shared.txt\\..\\..\\outside\\secret.txt',
  ];
  assert.equal(attacks.length, 50);
  for (const [index, file] of attacks.entries()) {
    const replies = await exchange(t, server.address.port, `${JSON.stringify({ type: 'DOWNLOAD', rq: index, file })}\n`);
    const errors = downloadErrors(replies);
    assert.equal(errors.length, 1, `${JSON.stringify(file)} got ${replies.length} replies`);
    assert.equal(errors[0]!.rq, index, JSON.stringify(file));
    assert.ok(!JSON.stringify(replies).includes(SECRET), `${JSON.stringify(file)} leaked the secret`);
  }
  // The same server still serves what is really in the folder.
  const outDir = await tempDir(t);
  const result = await downloadFile({ file: 'shared.txt', outDir, holders: [holderOf(server)] });
  assert.equal(await readFile(result.path, 'utf8'), 'public');
});

test('past maxUploads a DOWNLOAD gets "busy, try later"; a freed slot serves again', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  await share(shareDir, 'big.bin', Buffer.alloc(20 * 1024 * 1024, 0xff));
  await share(shareDir, 'shared.txt', Buffer.from('small'));
  let started!: () => void;
  const uploading = new Promise<void>((resolve) => (started = resolve));
  const server = await startServer(t, { shareDir, maxUploads: 1, onUpload: (event) => event.kind === 'started' && started() });

  // A downloader that asks for a big file and then reads nothing: its upload stays in progress.
  const hog = await connectTo(t, server.address.port);
  hog.pause();
  hog.write('{"type":"DOWNLOAD","rq":1,"file":"big.bin"}\n');
  await uploading;
  assert.equal(server.activeUploads(), 1);

  const [busy] = downloadErrors(await exchange(t, server.address.port, '{"type":"DOWNLOAD","rq":2,"file":"shared.txt"}\n'));
  assert.equal(busy!.rq, 2);
  assert.match(busy!.reason, /^busy, try later/);
  const outDir = await tempDir(t);
  await assert.rejects(downloadFile({ file: 'shared.txt', outDir, holders: [holderOf(server)] }), (error: Error & { attempts: Array<{ code: string; reason: string }> }) =>
    error.attempts[0]!.code === 'REFUSED' && /busy, try later/.test(error.attempts[0]!.reason));

  hog.destroy();
  await until(() => server.activeUploads() === 0, 'the upload slot freed');
  await stillServes(t, server);
});

test('past maxConnections a new connection is told so and closed', HANG_GUARD, async (t) => {
  const shareDir = await tempDir(t);
  await share(shareDir, 'shared.txt', Buffer.from('x'));
  const server = await startServer(t, { shareDir, maxConnections: 5, catalog: await catalogOf(shareDir) });
  const idle = await Promise.all(Array.from({ length: 5 }, () => connectTo(t, server.address.port)));
  const [refused] = downloadErrors(await exchange(t, server.address.port, '{"type":"DOWNLOAD","rq":1,"file":"shared.txt"}\n'));
  assert.deepEqual(refused, { type: 'DOWNLOAD-ERROR', rq: null, reason: 'this peer has too many connections open (5), try later' });
  for (const socket of idle) {
    socket.destroy();
    await once(socket, 'close');
  }
  await until(() => server.openConnections() === 0, 'every connection closed');
  await stillServes(t, server);
});
