// `serve --ui`: the real command line starts the page for its peer, prints where it is, and
// closes it on SIGINT before de-registering.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startPeerProcess } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';
import { expandBareUiFlag } from '../../src/cli/peer-commands.js';

test('a bare --ui becomes --ui=0 (a free port); --ui PORT is left as it is', () => {
  assert.deepEqual(expandBareUiFlag(['serve', '--ui']), ['serve', '--ui=0']);
  assert.deepEqual(expandBareUiFlag(['serve', '--ui', '--name', 'a']), ['serve', '--ui=0', '--name', 'a']);
  assert.deepEqual(expandBareUiFlag(['serve', '--ui', '8080']), ['serve', '--ui', '8080']);
  assert.deepEqual(expandBareUiFlag(['serve', '--ui=9000']), ['serve', '--ui=9000']);
});

test('serve --ui prints the page address; the page answers; SIGINT stops both', async (t) => {
  const server = await startTestServer(t);
  const share = await mkdtemp(join(tmpdir(), 'p2fs-ui-cli-'));
  t.after(() => rm(share, { recursive: true, force: true }));
  await writeFile(join(share, 'a.txt'), 'hello\n');
  // Run from the share folder: the page's downloads go to ./downloads, the default of every command.
  const child = startPeerProcess([
    'serve', '--name', 'ui-cli', '--server', `127.0.0.1:${server.address.port}`, '--share', share, '--host', '127.0.0.1', '--ui',
  ], { cwd: share, t });
  const [, url] = await child.waitFor(/web page: (http:\/\/127\.0\.0\.1:\d+\/)/);
  await child.waitFor(/^serving /m);
  const page = await (await fetch(url)).text();
  const token = /name="p2fs-token" content="([0-9a-f]{32})"/.exec(page)?.[1];
  assert.ok(token, 'the page carries its session token');
  const status = await (await fetch(`${url}api/status`, { headers: { 'x-p2fs-token': token } })).json();
  assert.equal(status.name, 'ui-cli');
  assert.equal(status.registration, 'registered');
  assert.equal(status.downloadDir, join(share, 'downloads'));
  child.child.kill('SIGINT');
  const { code } = await child.exited;
  assert.equal(code, 0, child.stderr);
  await assert.rejects(fetch(url), 'the page is closed with the peer');
});
