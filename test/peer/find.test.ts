// `p2fs find WORD…` and the shell's `find`: real processes against a real index server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { noStackTrace, runPeer, startPeerProcess, tempDir } from '../helpers/cli.js';
import { startTestServer, uniqueName } from '../helpers/server.js';

test('find lists the files holding every word, best match first; the shell has it too; refusals are one sentence', async (t) => {
  const server = await startTestServer(t);
  const target = `127.0.0.1:${server.target.port}`;
  const share = await tempDir(t, 'share');
  await writeFile(join(share, 'Big Buck Bunny (1080p).txt'), 'a long film');
  await writeFile(join(share, 'big_bunny.txt'), 'short');
  await writeFile(join(share, 'bunny ears.txt'), 'ears');
  const serving = startPeerProcess(['serve', '--share', share, '--name', uniqueName('alice'), '--server', target, '--host', '127.0.0.1'], { t });
  await serving.waitFor(/^serving /m);

  const found = await runPeer(['find', 'BUNNY', 'bíg', '--server', target, '--host', '127.0.0.1']);
  assert.equal(found.code, 0, found.stderr);
  const lines = found.stdout.trim().split('\n');
  assert.equal(lines[0], '2 files found, best match first');
  assert.match(lines[3]!, /^big_bunny\.txt\s+1\s+5 B\s+[0-9a-f]{12}…$/);
  assert.match(lines[4]!, /^Big Buck Bunny \(1080p\)\.txt\s+1\s+11 B/);

  const json = await runPeer(['find', 'ears', '--json', '--server', target, '--host', '127.0.0.1']);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { files: Array<{ name: string; holders: number; size: number }> };
  assert.deepEqual(parsed.files.map(({ name, holders, size }) => ({ name, holders, size })), [{ name: 'bunny ears.txt', holders: 1, size: 4 }]);

  const none = await runPeer(['find', 'nothing-like-this', '--server', target, '--host', '127.0.0.1']);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /no shared file name holds every word of "nothing-like-this"/);

  const many = await runPeer(['find', ...'a b c d e f g h i'.split(' '), '--server', target, '--host', '127.0.0.1']);
  assert.equal(many.code, 1);
  noStackTrace(many.stderr);
  assert.match(many.stderr, /search by at most 8/);

  const bare = await runPeer(['find', '--server', target]);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /find takes one or more WORDs/);

  const shell = await runPeer(['--name', uniqueName('bob'), '--server', target, '--host', '127.0.0.1'], 'find bunny ears\n');
  assert.equal(shell.code, 0, shell.stderr);
  assert.match(shell.stdout, /1 file found, best match first/);
  assert.match(shell.stdout, /bunny ears\.txt\s+1\s+4 B/);
});
