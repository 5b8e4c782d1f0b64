// `serve --metrics`: a real serve process exposes Prometheus text at /metrics (scraped and parsed
// here) and its health at /healthz, on an address of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runPeer, startPeerProcess, tempDir } from '../helpers/cli.js';
import { parsePrometheus } from '../helpers/prometheus.js';
import { startTestServer, uniqueName } from '../helpers/server.js';

test('serve --metrics: registration, shares, uploads and index messages at /metrics; 200 at /healthz', async (t) => {
  const server = await startTestServer(t);
  const target = `127.0.0.1:${server.target.port}`;
  const share = await tempDir(t, 'share');
  await writeFile(join(share, 'a.txt'), 'hello metrics\n');
  const name = uniqueName('alice');
  const serve = startPeerProcess(['serve', '--share', share, '--name', name, '--server', target, '--host', '127.0.0.1', '--metrics', '127.0.0.1:0'], { t });
  const [, url] = await serve.waitFor(/^metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics) /m);
  await serve.waitFor(/^serving 1 file /m);

  const got = await runPeer(['get', 'a.txt', '--server', target, '--out', await tempDir(t, 'out'), '--host', '127.0.0.1'], '', { t });
  assert.equal(got.code, 0, got.stderr);

  const response = await fetch(url!);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const scrape = parsePrometheus(await response.text());
  assert.equal(scrape.value('p2fs_peer_registered'), 1);
  assert.equal(scrape.value('p2fs_peer_shared_files'), 1);
  assert.equal(scrape.types.get('p2fs_peer_uploads_total'), 'counter');
  assert.equal(scrape.value('p2fs_peer_uploads_total', { outcome: 'finished' }), 1);
  assert.ok(scrape.value('p2fs_peer_index_messages_total', { direction: 'sent', type: 'REGISTER' }) >= 1);
  assert.ok(scrape.value('p2fs_peer_index_messages_total', { direction: 'received', type: 'PUBLISHED' }) >= 1);
  assert.ok(scrape.samples.has('process_cpu_seconds_total'), 'the process metrics too');

  const health = await fetch(url!.replace(/metrics$/, 'healthz'));
  assert.equal(health.status, 200);
  assert.deepEqual({ ...(await health.json()), lastHeard: undefined }, { ok: true, registration: 'registered', server: target, lastHeard: undefined });
  assert.equal((await fetch(url!.replace(/metrics$/, 'other'))).status, 404);
  assert.equal((await fetch(url!, { method: 'POST' })).status, 405);

  serve.child.kill('SIGTERM');
  assert.equal((await serve.exited).code, 0, serve.stderr);
  await assert.rejects(fetch(url!), 'the endpoint closes with the peer');
});
