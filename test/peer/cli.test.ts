// scripts/peer.ts as real processes against a real index server: serve + get end to end, failures
// with clear messages and exit codes, and the shell driven through piped input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { noStackTrace, ROOT, runPeer, startPeerProcess, tempDir } from '../helpers/cli.js';
import { startTestServer, uniqueName } from '../helpers/server.js';

test('serve shares a folder, get downloads a file byte for byte, and serve de-registers on SIGTERM', async (t) => {
  const server = await startTestServer(t);
  const share = await tempDir(t, 'share');
  const out = await tempDir(t, 'out');
  const content = Buffer.concat([Buffer.from('héllo wörld 🎉\n'.repeat(1000)), randomBytes(5000)]);
  await writeFile(join(share, 'mixed file.bin'), content);
  const name = uniqueName('alice');
  const target = `${server.target.host}:${server.target.port}`;

  const serving = startPeerProcess(['serve', '--share', share, '--name', name, '--server', target, '--host', '127.0.0.1'], { t });
  await serving.waitFor(/^serving /m);
  assert.ok(server.registry.peer(name)?.files.has('mixed file.bin'), `serve published the file; stderr: ${serving.stderr}`);

  const got = await runPeer(['get', 'mixed file.bin', '--server', target, '--out', out, '--host', '127.0.0.1']);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /^saved .*mixed file\.bin \(.*verified\) from /m);
  assert.deepEqual(await readFile(join(out, 'mixed file.bin')), content);
  // Again: the file is there, and the message names the flag that replaces it.
  const again = await runPeer(['get', 'mixed file.bin', '--server', target, '--out', out, '--host', '127.0.0.1']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /mixed file\.bin already exists; not replaced \(pass --overwrite to replace it\)/);
  noStackTrace(again.stderr);
  const replaced = await runPeer(['get', 'mixed file.bin', '--server', target, '--out', out, '--host', '127.0.0.1', '--overwrite']);
  assert.equal(replaced.code, 0, replaced.stderr);

  serving.child.kill('SIGTERM');
  const { code } = await serving.exited;
  assert.equal(code, 0, serving.stderr);
  assert.equal(server.registry.peer(name), undefined, 'serve de-registered before exiting');
});

test('get of a file nobody shares fails with exit 1, a clear message and no file left', async (t) => {
  const server = await startTestServer(t);
  const out = await tempDir(t, 'out');
  const got = await runPeer(['get', 'missing.txt', '--server', `127.0.0.1:${server.target.port}`, '--out', out]);
  assert.equal(got.code, 1);
  assert.match(got.stderr, /nobody shares "missing\.txt"/);
  noStackTrace(got.stderr);
  assert.deepEqual(await readdir(out), []);
});

test('an unreachable index server is reported after the retries, with exit 1', async (t) => {
  const silent = createSocket('udp4');
  silent.bind(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => silent.close());
  const { port } = silent.address();
  const got = await runPeer(['get', 'x.txt', '--server', `127.0.0.1:${port}`, '--retries', '2', '--timeout', '50ms']);
  assert.equal(got.code, 1);
  assert.match(got.stderr, new RegExp(`index server 127\\.0\\.0\\.1:${port} did not answer REGISTER after 3 tries \\(\\d+\\.\\d s\\)`));
  noStackTrace(got.stderr);
});

test('a wrong command line exits 2 and says what is wrong', async () => {
  const typo = await runPeer(['get', 'x', '--sever', '127.0.0.1:1']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown flag --sever; did you mean --server\?/);
  const badPort = await runPeer(['serve', '--share', '.', '--server', '127.0.0.1:99999']);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--server must be a port from 1 to 65535; got "99999"/);
  const outIsAFile = await runPeer(['get', 'x', '--out', join(ROOT, 'package.json')]);
  assert.equal(outIsAFile.code, 2);
  assert.match(outIsAFile.stderr, /--out .*package\.json is not a folder \(a file is in the way\)/);
  const help = await runPeer(['serve', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /not subfolders/i);
});

test('the shell runs every course operation from piped input; a typo gets a suggestion, not a stack trace', async (t) => {
  const server = await startTestServer(t);
  const target = `127.0.0.1:${server.target.port}`;
  const aliceShare = await tempDir(t, 'alice');
  const bobShare = await tempDir(t, 'bob');
  const out = join(bobShare, 'incoming');
  await mkdir(out);
  await writeFile(join(aliceShare, 'song.txt'), 'la la la');
  await writeFile(join(bobShare, 'bob notes.txt'), 'notes');
  const alice = uniqueName('alice');
  const bob = uniqueName('bob');
  const aliceRun = await runPeer(['shell', '--name', alice, '--server', target, '--share', aliceShare, '--host', '127.0.0.1'], 'register\npublish song.txt\n');
  assert.equal(aliceRun.code, 0, aliceRun.stderr);
  // alice's shell has quit (and de-registered); serve her file from a process that stays.
  const serving = startPeerProcess(['serve', '--share', aliceShare, '--name', alice, '--server', target, '--host', '127.0.0.1'], { t });
  await serving.waitFor(/^serving /m);

  const script = [
    'register',
    'publish "bob notes.txt"',
    'list',
    `info ${alice}`,
    'search song.txt',
    `download song.txt --from ${alice} --out ${out}`,
    'serch song.txt',
    'update-contact --tcp-port 0',
    'remove "bob notes.txt"',
    'deregister',
  ].join('\n');
  const run = await runPeer(['--name', bob, '--server', target, '--share', bobShare, '--host', '127.0.0.1', '--verbose'], `${script}\n`);
  noStackTrace(run.stderr);
  assert.equal(run.code, 1, 'the typo makes a piped session fail');
  assert.match(run.stderr, /unknown command "serch"; did you mean search\?/);
  assert.match(run.stdout, new RegExp(`registered as ${bob}`));
  assert.match(run.stdout, /published 1 file/);
  assert.match(run.stdout, new RegExp(`${alice}\\s+127\\.0\\.0\\.1:\\d+\\s+1\\s+song\\.txt`));
  assert.match(run.stdout, new RegExp(`${alice} at 127\\.0\\.0\\.1:\\d+ shares 1 file`));
  assert.match(run.stdout, /"song\.txt" is shared by 1 peer/);
  assert.match(run.stdout, /saved .*song\.txt .* verified\) from /);
  assert.match(run.stdout, /contact updated: tcp 127\.0\.0\.1:\d+/);
  assert.match(run.stdout, /removed "bob notes\.txt"/);
  assert.match(run.stdout, new RegExp(`de-registered ${bob}`));
  for (const type of ['REGISTER', 'PUBLISH', 'RETRIEVE-ALL', 'RETRIEVE-INFOT', 'SEARCH-FILE', 'UPDATE-CONTACT', 'REMOVE', 'DE-REGISTER']) {
    assert.match(run.stderr, new RegExp(`^→ ${type} \\{"rq":\\d+`, 'm'), `--verbose shows ${type} sent`);
  }
  assert.match(run.stderr, /^← DE-REGISTERED \{"rq":\d+\}$/m);
  assert.equal(await readFile(join(out, 'song.txt'), 'utf8'), 'la la la');
  assert.equal(server.registry.peer(bob), undefined);
});
