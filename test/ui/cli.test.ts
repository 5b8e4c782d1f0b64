// `serve --ui`: the real command line starts the page for its peer, prints where it is, and
// closes it on SIGINT before de-registering.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '../helpers/server.js';
import { expandBareUiFlag } from '../../src/cli/ui.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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
  const child = spawn(process.execPath, [
    '--import', 'tsx', 'scripts/peer.ts', 'serve', '--name', 'ui-cli', '--server', `127.0.0.1:${server.address.port}`,
    '--share', share, '--host', '127.0.0.1', '--ui',
  ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "web page:" line; stdout: ${out}; stderr: ${err}`)), 15_000);
    child.stdout.on('data', () => {
      const match = /web page: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  const page = await (await fetch(url)).text();
  const token = /name="p2fs-token" content="([0-9a-f]{32})"/.exec(page)?.[1];
  assert.ok(token, 'the page carries its session token');
  const status = await (await fetch(`${url}api/status`, { headers: { 'x-p2fs-token': token } })).json();
  assert.equal(status.name, 'ui-cli');
  assert.equal(status.registration, 'registered');
  assert.equal(status.downloadDir, join(share, 'downloads'));
  child.kill('SIGINT');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, err);
  await assert.rejects(fetch(url), 'the page is closed with the peer');
});
