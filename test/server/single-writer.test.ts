// A single-writer store (sqlite://, redis://, mysql://, memory://) serves one index server: a second
// one started on the same store is refused at start, saying the store is in use (and by whom), and
// that postgresql:// is the store for several servers. The claim goes with its holder: after close(),
// and after kill -9, a server starts again on the same store at once (Redis: once the lease lapses).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { freeUdpPort, startServerProcess } from '../reliability/server-process.js';
import { service } from '../stores/helpers/services.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const POSTGRES_FOR_SEVERAL = /for several servers on one registry, use postgresql:\/\//;

test('sqlite: a second server on the same file is refused, naming the first; after kill -9 the file is free at once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'p2fs-single-writer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const db = `sqlite://${join(dir, 'registry.sqlite')}`;
  const first = await startServerProcess(await freeUdpPort(), db);
  t.after(() => first.kill9());
  await assert.rejects(startServerProcess(await freeUdpPort(), db), (error: Error) => {
    assert.match(error.message, new RegExp(`sqlite://.*registry\\.sqlite is in use by another index server \\(pid ${first.child.pid} on `));
    assert.match(error.message, /a sqlite:\/\/ store has one writer/);
    assert.match(error.message, POSTGRES_FOR_SEVERAL);
    return true;
  });
  await first.kill9();
  const again = await startServerProcess(await freeUdpPort(), db);
  t.after(() => again.kill9());
  // A clean stop releases it too.
  assert.deepEqual(await again.stop(), { code: 0, signal: null });
  const third = await startServerProcess(await freeUdpPort(), db);
  await third.kill9();
});

test('--workers on a single-writer store is refused with a sentence saying which store can', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/server.ts', '--port', '0', '--db', 'sqlite:///tmp/never-opened.sqlite', '--workers', '2'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 2);
  assert.match(stderr, /--workers 2 needs a registry several servers can share: give --db postgresql:\/\/…; a sqlite:\/\/ store has one writer/);
});

test('memory://NAME: a second server on the same name in one process is refused; after close() it starts', async () => {
  const store = `memory://single-writer-${randomUUID()}`;
  const first = await startTestServer({ store });
  await assert.rejects(startTestServer({ store }), new RegExp(`memory://single-writer-.* is in use by another index server \\(in this process\\).*${POSTGRES_FOR_SEVERAL.source}`));
  await first.close();
  const second = await startTestServer({ store });
  await second.close();
});

const networked = await Promise.all([
  service('Redis', 'P2FS_TEST_REDIS_URL', 'redis://127.0.0.1:6379'),
  service('MariaDB', 'P2FS_TEST_MYSQL_URL', 'mysql://root@127.0.0.1:3306/test'),
]);

for (const db of networked) {
  describe(`${db.name}: one server per store`, { skip: db.skip }, () => {
    test('a second server is refused, saying by whom; after close() the store is free', async () => {
      // Another run of this test on this machine's shared service may hold it for a moment: wait for it.
      let first: TestServer | undefined;
      for (let waited = 0; !first; waited += 500) {
        try {
          first = await startTestServer({ store: db.url });
        } catch (error) {
          if (!/in use/.test((error as Error).message) || waited > 30_000) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
      try {
        const by = db.name === 'Redis' ? /\(pid \d+ on .* since .*\).*wait \d+ s if it has stopped/ : /\(MySQL connection \d+ from [^)]+\)/;
        await assert.rejects(startTestServer({ store: db.url }), (error: Error) => {
          assert.match(error.message, /is in use by another index server/);
          assert.match(error.message, by);
          assert.match(error.message, POSTGRES_FOR_SEVERAL);
          return true;
        });
      } finally {
        await first.close();
      }
      const second = await startTestServer({ store: db.url });
      await second.close();
    });
  });
}
