// The page's API for issue 15: files by words, every file on the network (paged, sorted), pause,
// resume and cancel of a download (through a slow holder, so it is caught mid-way), and an index
// server that does not answer, said within 2 s.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { call, eventually, startSlowHolder, startUiNet, webUiWithSilentServer } from './helpers.js';

const MOVIE = randomBytes(3_000_000);

test('web UI API: words, every file, pause / resume / cancel, a silent server', async (t) => {
  const { net, peers } = await startUiNet(t, [
    { name: 'alice', files: { 'Big Buck Bunny.mkv': MOVIE, 'bunny ears.txt': 'ears\n', 'holiday photo 1.jpg': randomBytes(2000), 'holiday photo 2.jpg': randomBytes(1500) } },
    { name: 'bob', files: { 'bunny ears.txt': 'ears\n', 'zebra.txt': 'z' } },
    { name: 'carol' },
  ]);
  const [alice, bob, carol] = peers as [typeof peers[0], typeof peers[0], typeof peers[0]];
  await eventually(async () => (await call(carol.ui, 'GET', '/api/words?q=zebra')).json.files?.length === 1, 5_000, 'files published');

  await t.test('GET /api/words: files holding every word, best first, with holders and size', async () => {
    const found = await call(carol.ui, 'GET', '/api/words?q=BUNNY');
    assert.equal(found.status, 200, found.text);
    assert.deepEqual(found.json.files.map((f: { name: string; holders: number }) => `${f.name}:${f.holders}`), ['bunny ears.txt:2', 'Big Buck Bunny.mkv:1']);
    assert.equal(found.json.files[1].size, MOVIE.byteLength);
    assert.deepEqual((await call(carol.ui, 'GET', '/api/words?q=holiday%20PHOTO%202')).json.files.map((f: { name: string }) => f.name), ['holiday photo 2.jpg']);
    const bad = await call(carol.ui, 'GET', '/api/words?q=');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.field, 'q');
    const many = await call(carol.ui, 'GET', `/api/words?q=${encodeURIComponent('a b c d e f g h i')}`);
    assert.equal(many.status, 409);
    assert.match(many.json.error.message, /search by at most 8/);
  });

  await t.test('GET /api/network-files: one row per name, sorted and paged', async () => {
    const byName = await call(carol.ui, 'GET', '/api/network-files');
    assert.equal(byName.status, 200, byName.text);
    assert.equal(byName.json.total, 5);
    assert.deepEqual(byName.json.files.map((f: { name: string }) => f.name), ['Big Buck Bunny.mkv', 'bunny ears.txt', 'holiday photo 1.jpg', 'holiday photo 2.jpg', 'zebra.txt']);
    assert.deepEqual(byName.json.files[1].holders, ['alice', 'bob']);
    const bySize = await call(carol.ui, 'GET', '/api/network-files?sort=size&order=desc&per=2&page=1');
    assert.deepEqual(bySize.json.files.map((f: { name: string }) => f.name), ['Big Buck Bunny.mkv', 'holiday photo 1.jpg']);
    assert.equal(bySize.json.pages, 3);
    const last = await call(carol.ui, 'GET', '/api/network-files?sort=holders&order=desc&per=2&page=3');
    assert.equal(last.json.files.length, 1);
    assert.equal((await call(carol.ui, 'GET', '/api/network-files?sort=colour')).json.error.field, 'sort');
    assert.equal((await call(carol.ui, 'GET', '/api/network-files?page=0')).json.error.field, 'page');
  });

  await t.test('pause keeps what arrived, resume finishes it byte for byte, cancel deletes it', async () => {
    const sha256 = createHash('sha256').update(MOVIE).digest('hex');
    await startSlowHolder(t, {
      server: net.server.target, name: 'slow-mirror', target: { host: '127.0.0.1', port: alice.peer.contact.tcpPort },
      files: [{ name: 'Big Buck Bunny.mkv', size: MOVIE.byteLength, sha256 }], bytesPerSecond: 1_000_000,
    });
    const file = 'Big Buck Bunny.mkv';
    const started = await call(carol.ui, 'POST', '/api/downloads', { body: { file, from: 'slow-mirror' } });
    assert.equal(started.status, 202, started.text);
    await eventually(async () => (await call(carol.ui, 'GET', '/api/downloads')).json.running[0]?.bytes > 300_000, 10_000, 'some bytes');
    const paused = await call(carol.ui, 'POST', '/api/downloads/pause', { body: { file } });
    assert.equal(paused.status, 200, paused.text);
    const list = (await call(carol.ui, 'GET', '/api/downloads')).json;
    assert.equal(list.running.length, 0);
    assert.equal(list.paused[0].state, 'paused');
    assert.equal(list.finished.length, 0, 'a pause is not a failure');
    const kept = (await readdir(carol.downloads)).filter((name) => name.endsWith('.part'));
    assert.equal(kept.length, 1, 'the .part file is kept');
    assert.equal((await call(carol.ui, 'POST', '/api/downloads/pause', { body: { file } })).json.error.code, 'NOT_PAUSED');

    const resumed = await call(carol.ui, 'POST', '/api/downloads/resume', { body: { file } });
    assert.equal(resumed.status, 202, resumed.text);
    assert.equal(resumed.json.download.holder, 'slow-mirror', 'resumed from the same holder');
    await eventually(async () => (await call(carol.ui, 'GET', '/api/downloads')).json.running[0]?.bytes > 1_500_000, 10_000, 'more bytes');
    await call(carol.ui, 'POST', '/api/downloads/pause', { body: { file } });
    const switched = await call(carol.ui, 'POST', '/api/downloads/resume', { body: { file, from: 'alice' } });
    assert.equal(switched.json.download.holder, 'alice', 'a resume may name another holder');
    const done = await eventually(async () => (await call(carol.ui, 'GET', '/api/downloads')).json.finished.find((d: { state: string }) => d.state === 'finished'), 15_000, 'the download to finish');
    assert.equal(done.bytes, MOVIE.byteLength);
    assert.deepEqual(await readFile(join(carol.downloads, file)), MOVIE);

    const again = await call(bob.ui, 'POST', '/api/downloads', { body: { file, from: 'slow-mirror' } });
    assert.equal(again.status, 202, again.text);
    await eventually(async () => (await call(bob.ui, 'GET', '/api/downloads')).json.running[0]?.bytes > 100_000, 10_000, 'some bytes');
    const cancelled = await call(bob.ui, 'POST', '/api/downloads/cancel', { body: { file } });
    assert.equal(cancelled.status, 200, cancelled.text);
    const after = (await call(bob.ui, 'GET', '/api/downloads')).json;
    assert.equal(after.finished[0].state, 'cancelled');
    assert.deepEqual((await readdir(bob.downloads)).filter((name) => name.includes('Bunny') || name.includes('.part')), [], 'nothing left behind');
    assert.equal((await call(bob.ui, 'POST', '/api/downloads/cancel', { body: { file } })).json.error.code, 'NOT_PAUSED');
  });

  await t.test('an index server that does not answer is said within 2 s, in plain words', async (st) => {
    const ui = await webUiWithSilentServer(st, net, carol.downloads);
    // SERVER_SILENT comes from the page's 2 s deadline alone: the client's own retries end in TIMEOUT
    // after 11.5 s. (How long it took is reported, not asserted: timing goals live in benchmarks.)
    for (const path of ['/api/peers', '/api/network-files', '/api/words?q=bunny']) {
      const began = performance.now();
      const reply = await call(ui, 'GET', path);
      assert.equal(reply.status, 504, `${path}: ${reply.text}`);
      assert.equal(reply.json.error.code, 'SERVER_SILENT');
      assert.ok(reply.json.error.silentMs >= 2_000 && reply.json.error.silentMs < 11_500, `silent for ${reply.json.error.silentMs} ms`);
      assert.match(reply.json.error.message, /^The index server \(127\.0\.0\.1:\d+\) does not answer\. Check that it is running and reachable, then retry\.$/);
      console.log(`${path} with a silent index server: answered after ${(performance.now() - began).toFixed(0)} ms`);
    }
    const status = await call(ui, 'GET', '/api/status?check=1');
    assert.equal(status.json.serverAnswers, false);
  });
});
