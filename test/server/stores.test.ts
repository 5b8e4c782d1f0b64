// The server on each networked store (the real PostgreSQL, Redis and MariaDB on 127.0.0.1; skipped,
// saying why, only when the service is absent): what it acknowledged survives a restart, and a store
// that fails at run time makes requests fail with a reply that says so.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, uniqueName } from '../helpers/server.js';
import { service } from '../stores/helpers/services.js';
import { startTcpProxy } from '../stores/helpers/tcp-proxy.js';

const services = await Promise.all([
  service('PostgreSQL', 'P2FS_TEST_POSTGRES_URL', 'postgresql://postgres@127.0.0.1:5432/test'),
  service('Redis', 'P2FS_TEST_REDIS_URL', 'redis://127.0.0.1:6379'),
  service('MariaDB', 'P2FS_TEST_MYSQL_URL', 'mysql://root@127.0.0.1:3306/test'),
]);

const UNAVAILABLE_OR_UNCONFIRMED =
  /^the registry store (is unavailable \(.+\); nothing was changed, try again|did not confirm this change \(.+\); it may still be applied: send the same request again to learn whether it was)$/;

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
      const first = await startTestServer({ store: db.url });
      let token = '';
      try {
        const c = await RawClient.open(first.target, t);
        token = ((await c.request({ type: 'REGISTER', rq: 1, name, ip: c.address.ip, udpPort: c.address.port, tcpPort: 6001 })) as { token: string }).token;
        assert.equal((await c.request({ type: 'PUBLISH', rq: 2, name, files: [{ name: 'report.pdf', size: 42 }, 'notes.txt'] })).type, 'PUBLISHED');
        assert.equal((await c.request({ type: 'REMOVE', rq: 3, name, files: ['notes.txt'] })).type, 'REMOVED');
      } finally {
        await first.close();
      }
      const second = await startTestServer(t, { store: db.url });
      assert.deepEqual(second.registry.peer(name)?.files.get('report.pdf'), { name: 'report.pdf', size: 42 });
      const c = await RawClient.open(second.target, t);
      const info = await c.request({ type: 'RETRIEVE-INFOT', rq: 4, name, token });
      assert.deepEqual(info, { type: 'RETRIEVE-INFOT', rq: 4, name, ip: '127.0.0.1', tcpPort: 6001, files: [{ name: 'report.pdf', size: 42 }] });
      assert.equal((await c.request({ type: 'DE-REGISTER', rq: 5, name, token })).type, 'DE-REGISTERED');
    });

    test('a store that goes away at run time: mutations are refused saying so; queries go on', async (t) => {
      const { hostname, port } = new URL(db.url);
      const proxy = await startTcpProxy({ host: hostname, port: Number(port) });
      const server = await startTestServer({ store: through(db.url, proxy.port) });
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
      // Clean up through the real store (@keyv/mysql allows one URL per process at a time: after the close).
      const cleaner = await startTestServer(t, { store: db.url });
      const cc = await RawClient.open(cleaner.target, t);
      const token = [...(cleaner.registry.snapshot().peers.filter((p) => p.name === name))][0]?.token;
      if (token) await cc.request({ type: 'DE-REGISTER', rq: 1, name, token });
    });
  });
}
