// The server on each networked store (the real PostgreSQL, Redis and MariaDB on 127.0.0.1; skipped,
// saying why, only when the service is absent): what it acknowledged survives a restart, and a store
// that fails at run time makes requests fail with a reply that says so.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredPeer } from '../../src/registry/index.js';
import { openStore } from '../../src/stores/index.js';
import { RawClient, startTestServer, uniqueName, type TestServer } from '../helpers/server.js';
import { service } from '../stores/helpers/services.js';
import { startTcpProxy } from '../stores/helpers/tcp-proxy.js';

const services = await Promise.all([
  service('PostgreSQL', 'P2FS_TEST_POSTGRES_URL', 'postgresql://postgres@127.0.0.1:5432/test'),
  service('Redis', 'P2FS_TEST_REDIS_URL', 'redis://127.0.0.1:6379'),
  service('MariaDB', 'P2FS_TEST_MYSQL_URL', 'mysql://root@127.0.0.1:3306/test'),
]);

const UNAVAILABLE_OR_UNCONFIRMED =
  /^the registry store (is unavailable \(.+\); nothing was changed, try again|did not confirm this change \(.+\); it may still be applied: send the same request again to learn whether it was)$/;

/**
 * A server on a single-writer store (Redis, MariaDB) is refused while another server holds it: the
 * same test of another worktree or CI job on this machine's shared services, for a moment. Wait for it.
 */
async function startServerOn(store: string, t?: TestContext): Promise<TestServer> {
  for (let waited = 0; ; waited += 500) {
    try {
      return await startTestServer({ store, ...(t ? { t } : {}) });
    } catch (error) {
      if (!/is in use by another index server/.test((error as Error).message) || waited >= 30_000) throw error;
      await sleep(500);
    }
  }
}

function through(url: string, port: number): string {
  const moved = new URL(url);
  moved.hostname = '127.0.0.1';
  moved.port = String(port);
  return moved.href;
}

for (const db of services) {
  describe(`index server on ${db.name}`, { skip: db.skip }, () => {
    test('register and publish, restart on the same store: the registry is there', async (t) => {
      const name = uniqueName('db');
      const first = await startServerOn(db.url);
      let token = '';
      try {
        const c = await RawClient.open(first.target, t);
        token = ((await c.request({ type: 'REGISTER', rq: 1, name, ip: c.address.ip, udpPort: c.address.port, tcpPort: 6001 })) as { token: string }).token;
        assert.equal((await c.request({ type: 'PUBLISH', rq: 2, name, files: [{ name: 'report.pdf', size: 42 }, 'notes.txt'] })).type, 'PUBLISHED');
        assert.equal((await c.request({ type: 'REMOVE', rq: 3, name, files: ['notes.txt'] })).type, 'REMOVED');
      } finally {
        await first.close();
      }
      const second = await startServerOn(db.url, t);
      assert.deepEqual(second.registry.peer(name)?.files.get('report.pdf'), { name: 'report.pdf', size: 42 });
      const c = await RawClient.open(second.target, t);
      const info = await c.request({ type: 'RETRIEVE-INFOT', rq: 4, name, token });
      assert.deepEqual(info, { type: 'RETRIEVE-INFOT', rq: 4, name, ip: '127.0.0.1', tcpPort: 6001, files: [{ name: 'report.pdf', size: 42 }] });
      assert.equal((await c.request({ type: 'DE-REGISTER', rq: 5, name, token })).type, 'DE-REGISTERED');
    });

    test('a store that goes away at run time: mutations are refused saying so; queries go on', async (t) => {
      const { hostname, port } = new URL(db.url);
      const proxy = await startTcpProxy({ host: hostname, port: Number(port) });
      const server = await startServerOn(through(db.url, proxy.port));
      // Its store is gone: closing may report that, which is not what this test is about.
      t.after(() => server.close().catch(() => {}));
      const c = await RawClient.open(server.target, t);
      const name = uniqueName('cut');
      const before = `${name}-before`;
      await c.request({ type: 'REGISTER', rq: 1, name, ip: c.address.ip, udpPort: c.address.port, tcpPort: 1 });
      await c.request({ type: 'PUBLISH', rq: 2, name, files: [before] });
      await proxy.cut();
      const refused = (await c.request({ type: 'PUBLISH', rq: 3, name, files: ['after'] }, 20_000)) as { type: string; reason: string };
      assert.equal(refused.type, 'PUBLISH-DENIED');
      // A commit sent on a connection the cut has just killed may have landed, as far as the server
      // can tell: it says so rather than "nothing was changed".
      assert.match(refused.reason, UNAVAILABLE_OR_UNCONFIRMED);
      const search = (await c.request({ type: 'SEARCH-FILE', rq: 4, file: before })) as { peers: unknown[] };
      assert.equal(search.peers.length, 1);
      assert.deepEqual([...server.registry.peer(name)!.files.keys()], [before]);
      await server.close().catch(() => {});
      // Clean up through the real store (@keyv/mysql allows one URL per process at a time: after the
      // close). Not through another server: the cut one may still hold a single-writer store's claim
      // (a Redis lease lapses only after 15 s). The shared registry is cleaned by a DE-REGISTER.
      if (new URL(db.url).protocol.startsWith('postgres')) {
        const cleaner = await startServerOn(db.url, t);
        const cc = await RawClient.open(cleaner.target, t);
        const token = cleaner.registry.snapshot().peers.find((p) => p.name === name)?.token;
        if (token) await cc.request({ type: 'DE-REGISTER', rq: 1, name, token });
      } else {
        const store = await openStore<StoredPeer>(db.url, 'peers');
        await store.delete(name);
        await store.close();
      }
    });
  });
}
