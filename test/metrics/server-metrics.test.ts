// `p2fs-server --metrics`: a real server process exposes Prometheus text at /metrics (scraped and
// parsed here) counting requests by type, refusals by reason, drops and errors, the registry's size
// and the store's write latency; /healthz is 200 while the store answers, and 503 once the store
// (a shared registry on PostgreSQL, behind a proxy that is cut) does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { join } from 'node:path';
import { indexServerMetrics } from '../../src/metrics/index-server.js';
import { serveMetrics } from '../../src/metrics/http.js';
import { ROOT, tempDir, TSX } from '../helpers/cli.js';
import { parsePrometheus } from '../helpers/prometheus.js';
import { RawClient, startTestServer, uniqueName } from '../helpers/server.js';
import { clusterDatabase } from '../cluster/harness.js';
import { startTcpProxy } from '../stores/helpers/tcp-proxy.js';

test('p2fs-server --metrics: requests by type, refusals by reason, drops, peers, files, store latency; /healthz 200', async (t) => {
  const db = `sqlite://${join(await tempDir(t, 'metrics'), 'registry.sqlite')}`;
  const server = spawn(process.execPath, ['--import', TSX, join(ROOT, 'scripts', 'server.ts'), '--host', '127.0.0.1', '--port', '0', '--db', db, '--log-level', 'warn', '--metrics', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => server.kill('SIGKILL'));
  const [startLine] = (await once(createInterface({ input: server.stdout }), 'line')) as [string];
  const match = /listening on udp 127\.0\.0\.1:(\d+) · .* · metrics (http:\/\/127\.0\.0\.1:\d+\/metrics)$/.exec(startLine);
  assert.ok(match, startLine);
  const [, port, url] = match as unknown as [string, string, string];

  const c = await RawClient.open({ host: '127.0.0.1', port: Number(port) }, t);
  const name = uniqueName('metered');
  assert.equal((await c.request({ type: 'REGISTER', rq: 1, name, ip: c.address.ip, udpPort: c.address.port, tcpPort: 6001 })).type, 'REGISTERED');
  assert.equal((await c.request({ type: 'PUBLISH', rq: 2, name, files: ['a.txt', 'b.txt'] })).type, 'PUBLISHED');
  assert.equal((await c.request({ type: 'SEARCH-FILE', rq: 3, file: 'nobody.txt' })).type, 'SEARCH-ERROR');
  assert.equal((await c.request({ type: 'REGISTER', rq: 4, name, ip: c.address.ip, udpPort: 70000, tcpPort: 6001 })).type, 'REGISTER-DENIED');
  assert.equal((await c.request({ type: 'NOT-A-TYPE', rq: 5 })).type, 'ERROR');
  c.send('this is not JSON');
  assert.equal((await c.request({ type: 'RETRIEVE-ALL', rq: 6 })).type, 'RETRIEVE'); // after the garbage: it has been read

  const scrape = parsePrometheus(await (await fetch(url)).text());
  assert.equal(scrape.value('p2fs_server_requests_total', { type: 'REGISTER' }), 2);
  assert.equal(scrape.value('p2fs_server_requests_total', { type: 'SEARCH-FILE' }), 1);
  assert.equal(scrape.value('p2fs_server_requests_total', { type: 'UPDATE-CONTACT' }), 0, 'every type, asked or not');
  assert.equal(scrape.value('p2fs_server_refusals_total', { type: 'SEARCH-ERROR', reason: 'NOT_SHARED' }), 1);
  assert.equal(scrape.value('p2fs_server_refusals_total', { type: 'REGISTER-DENIED', reason: 'INVALID' }), 1);
  assert.equal(scrape.value('p2fs_server_errors_total'), 1);
  assert.equal(scrape.value('p2fs_server_dropped_total', { reason: 'garbage' }), 1);
  assert.equal(scrape.value('p2fs_server_dropped_total', { reason: 'rate_limit' }), 0);
  assert.equal(scrape.value('p2fs_server_datagrams_received_total'), 7);
  assert.equal(scrape.value('p2fs_server_peers'), 1);
  assert.equal(scrape.value('p2fs_server_files'), 2);
  assert.equal(scrape.types.get('p2fs_server_store_write_seconds'), 'histogram');
  assert.equal(scrape.value('p2fs_server_store_write_seconds_count'), 2, 'REGISTER and PUBLISH each wrote once');
  const buckets = scrape.samples.get('p2fs_server_store_write_seconds_bucket')!;
  assert.equal(buckets.at(-1)!.labels.le, '+Inf');
  assert.equal(buckets.at(-1)!.value, 2);
  assert.ok(buckets.every((b, i) => i === 0 || b.value >= buckets[i - 1]!.value), 'buckets are cumulative');

  const health = await fetch(url.replace(/metrics$/, 'healthz'));
  assert.equal(health.status, 200);
  assert.equal((await health.json()).ok, true);

  server.kill('SIGTERM');
  const [code] = await once(server, 'exit');
  assert.equal(code, 0);
});

// The registry shared by several servers, on a database of this file's own, through a proxy to cut.
const db = await clusterDatabase();

test('/healthz is 503, saying why, once the store stops answering', { skip: db.skip }, async (t) => {
  const { hostname, port } = new URL(db.url);
  const proxy = await startTcpProxy({ host: hostname, port: Number(port) });
  const through = new URL(db.url);
  through.hostname = '127.0.0.1';
  through.port = String(proxy.port);
  const metrics = indexServerMetrics();
  const server = await startTestServer({ store: through.href, onStoreWrite: metrics.observeStoreWrite });
  t.after(() => server.close().catch(() => {})); // its store is gone by then
  metrics.attach(server);
  const endpoint = await serveMetrics({ host: '127.0.0.1', port: 0, ...metrics });
  t.after(() => endpoint.close());
  const healthz = endpoint.url.replace(/metrics$/, 'healthz');

  const healthy = await fetch(healthz);
  assert.equal(healthy.status, 200);
  assert.equal((await healthy.json()).ok, true);
  await proxy.cut();
  // The shared registry's change feed reads the store every second: it notices within a few.
  let failing: Response | undefined;
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 200))) {
    failing = await fetch(healthz);
    if (failing.status !== 200) break;
  }
  assert.equal(failing?.status, 503);
  const body = await failing!.json();
  assert.equal(body.ok, false);
  assert.match(body.error, /has not answered the change feed for \d+ ms|no answer within/);
});
