// The web UI's JSON API without a browser: every endpoint against real peers and a real index
// server on loopback, and the security gates (Host, session token, origin, content type, sizes, paths).
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { call, eventually, startUiNet } from './helpers.js';

const HELLO = 'héllo wörld 🌍 — a text shared by alice\n';
const BIG = Buffer.alloc(300_000, 7);

test('web UI API', async (t) => {
  const { peers } = await startUiNet(t, [
    { name: 'alice', files: { 'hello.txt': HELLO, 'big.bin': BIG, 'notes.md': '# notes\n' } },
    { name: 'bob', files: { 'bob.txt': 'from bob\n' } },
  ], { maxUploadBytes: 64 * 1024 });
  const [alice, bob] = peers as [typeof peers[0], typeof peers[0]];
  // Nobody sharing a file is the server's SEARCH-ERROR: no holders.
  const holders = async (ui: typeof bob.ui, file: string) =>
    ((await call(ui, 'GET', `/api/search?file=${encodeURIComponent(file)}`)).json.holders ?? []).map((h: { name: string }) => h.name);
  await eventually(async () => (await holders(bob.ui, 'notes.md')).includes('alice'), 5_000, "alice's files published");

  await t.test('GET / serves the page with its session token, a strict CSP and no framing', async () => {
    const reply = await call(alice.ui, 'GET', '/', { noToken: true });
    assert.equal(reply.status, 200);
    assert.match(reply.text, new RegExp(`content="${alice.ui.token}"`));
    assert.match(String(reply.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal(reply.headers['x-frame-options'], 'DENY');
    for (const asset of ['/app.js', '/size.js', '/style.css', '/favicon.svg']) assert.equal((await call(alice.ui, 'GET', asset, { noToken: true })).status, 200, asset);
  });

  await t.test('GET /api/status: the peer at a glance', async () => {
    const { status, json } = await call(alice.ui, 'GET', '/api/status');
    assert.equal(status, 200);
    assert.equal(json.name, 'alice');
    assert.equal(json.registration, 'registered');
    assert.equal(json.serverAnswers, true);
    assert.equal(json.sharedFiles, 3);
    assert.match(json.tcpAddress, /^127\.0\.0\.1:\d+$/);
    assert.equal(json.uploads, 0);
    assert.equal(json.downloads, 0);
    const checked = await call(alice.ui, 'GET', '/api/status?check=1');
    assert.equal(checked.json.serverAnswers, true);
  });

  await t.test('every /api request needs the session token', async () => {
    for (const [method, path] of [['GET', '/api/status'], ['GET', '/api/peers'], ['POST', '/api/files/remove'], ['GET', '/api/events']]) {
      const reply = await call(alice.ui, method!, path!, { noToken: true, ...(method === 'POST' ? { body: { name: 'hello.txt' } } : {}) });
      assert.equal(reply.status, 403, `${method} ${path}`);
      assert.equal(reply.json.error.code, 'FORBIDDEN');
      assert.match(reply.json.error.message, /session token/);
    }
    const wrong = await call(alice.ui, 'GET', '/api/status', { headers: { 'x-p2fs-token': 'f'.repeat(32) } });
    assert.equal(wrong.status, 403);
  });

  await t.test('a Host other than an IP literal or localhost on our port is refused (DNS rebinding)', async () => {
    const port = alice.ui.address.port;
    for (const host of [`evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `127.0.0.1.evil.example:${port}`]) {
      const reply = await call(alice.ui, 'GET', '/', { headers: { host } });
      assert.equal(reply.status, 403, host);
      assert.equal(reply.json.error.code, 'FORBIDDEN');
    }
    assert.equal((await call(alice.ui, 'GET', '/api/status', { headers: { host: `localhost:${port}` } })).status, 200);
  });

  await t.test('state-changing requests from another origin are refused and change nothing', async () => {
    const attempts = [
      { origin: 'http://evil.example' },
      { origin: `http://127.0.0.1:${alice.ui.address.port + 1}` },
      { origin: undefined, 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of attempts) {
      const reply = await call(alice.ui, 'POST', '/api/files/remove', { body: { name: 'hello.txt' }, headers });
      assert.equal(reply.status, 403, JSON.stringify(headers));
      assert.equal(reply.json.error.code, 'FORBIDDEN');
    }
    // A form post cannot send JSON: text/plain and form bodies are refused before anything happens.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const reply = await call(alice.ui, 'POST', '/api/downloads', { raw: '{"file":"bob.txt"}', headers: { 'content-type': type } });
      assert.equal(reply.status, 415, type);
      assert.equal(reply.json.error.code, 'UNSUPPORTED_MEDIA_TYPE');
    }
    assert.deepEqual(await holders(bob.ui, 'hello.txt'), ['alice']);
    assert.equal((await call(alice.ui, 'OPTIONS', '/api/files/remove')).status, 405);
  });

  await t.test('GET /api/files, POST /api/files/remove and /publish', async () => {
    const list = await call(alice.ui, 'GET', '/api/files');
    assert.equal(list.status, 200);
    const hello = list.json.files.find((f: { name: string }) => f.name === 'hello.txt');
    assert.equal(hello.size, Buffer.byteLength(HELLO));
    assert.match(hello.sha256, /^[0-9a-f]{64}$/);
    assert.equal(hello.shared, true);

    const removed = await call(alice.ui, 'POST', '/api/files/remove', { body: { name: 'hello.txt' } });
    assert.equal(removed.status, 200);
    assert.equal(removed.json.files.find((f: { name: string }) => f.name === 'hello.txt').shared, false);
    assert.deepEqual(await holders(bob.ui, 'hello.txt'), []);

    const published = await call(alice.ui, 'POST', '/api/files/publish', { body: { name: 'hello.txt' } });
    assert.equal(published.status, 200);
    assert.equal(published.json.published[0].name, 'hello.txt');
    assert.deepEqual(await holders(bob.ui, 'hello.txt'), ['alice']);
  });

  await t.test('file names are checked with the protocol rule; names outside the share are refused', async () => {
    for (const name of ['../etc/passwd', '/etc/passwd', '..', 'a\\b', 'x\u0001y', '', 42]) {
      const reply = await call(alice.ui, 'POST', '/api/files/publish', { body: { name } });
      assert.equal(reply.status, 400, JSON.stringify(name));
      assert.equal(reply.json.error.code, 'BAD_REQUEST');
      assert.equal(reply.json.error.field, 'name');
      assert.match(reply.json.error.message, /^name /);
    }
    const missing = await call(alice.ui, 'POST', '/api/files/publish', { body: { name: 'nope.txt' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'NOT_IN_SHARE');
  });

  await t.test('POST /api/files?name=… adds a file to the share and publishes it', async () => {
    const put = (name: string, raw: string | Uint8Array, type = 'application/octet-stream') =>
      call(alice.ui, 'POST', `/api/files?name=${encodeURIComponent(name)}`, { raw, headers: { 'content-type': type } });
    const added = await put('added é.txt', 'added from the page\n');
    assert.equal(added.status, 201, added.text);
    assert.equal(added.json.added, 'added é.txt');
    assert.equal(await readFile(join(alice.share, 'added é.txt'), 'utf8'), 'added from the page\n');
    assert.deepEqual(await holders(bob.ui, 'added é.txt'), ['alice']);

    const again = await put('added é.txt', 'other');
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'CONFLICT');
    assert.equal(await readFile(join(alice.share, 'added é.txt'), 'utf8'), 'added from the page\n');

    const traversal = await put('../escape.txt', 'x');
    assert.equal(traversal.status, 400);
    assert.equal(traversal.json.error.field, 'name');
    await assert.rejects(stat(join(alice.share, '..', 'escape.txt')));

    const tooBig = await put('big-upload.bin', Buffer.alloc(64 * 1024 + 1));
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.json.error.code, 'TOO_LARGE');
    await assert.rejects(stat(join(alice.share, 'big-upload.bin')));

    const json = await put('x.txt', '{}', 'application/json');
    assert.equal(json.status, 415);
  });

  await t.test('GET /api/peers (RETRIEVE-ALL) and /api/peers/NAME (RETRIEVE-INFOT)', async () => {
    const all = await call(bob.ui, 'GET', '/api/peers');
    assert.equal(all.status, 200);
    assert.equal(all.json.self, 'bob');
    assert.deepEqual(all.json.peers.map((p: { name: string }) => p.name).sort(), ['alice', 'bob']);
    const info = await call(bob.ui, 'GET', '/api/peers/alice');
    assert.equal(info.status, 200);
    assert.equal(info.json.peer.name, 'alice');
    assert.ok(info.json.peer.files.some((f: { name: string }) => f.name === 'big.bin'));

    const unknown = await call(bob.ui, 'GET', '/api/peers/nobody');
    assert.equal(unknown.status, 409);
    assert.equal(unknown.json.error.code, 'DENIED');
    assert.match(unknown.json.error.message, /"nobody" is not registered/);
    const bad = await call(bob.ui, 'GET', '/api/peers/a%20b');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.field, 'name');
  });

  await t.test('GET /api/search (SEARCH-FILE)', async () => {
    const found = await call(bob.ui, 'GET', '/api/search?file=big.bin');
    assert.equal(found.status, 200);
    assert.equal(found.json.holders[0].name, 'alice');
    assert.equal(found.json.holders[0].size, BIG.byteLength);
    // Nobody shares it: the server's SEARCH-ERROR, its reason as the message.
    const none = await call(bob.ui, 'GET', '/api/search?file=nothing.txt');
    assert.equal(none.status, 409);
    assert.deepEqual(none.json.error, { code: 'DENIED', message: 'nobody shares "nothing.txt"', request: 'SEARCH-FILE', reason: 'nobody shares "nothing.txt"' });
    const missing = await call(bob.ui, 'GET', '/api/search');
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error.field, 'file');
  });

  await t.test('POST /api/downloads, GET /api/downloads, GET /downloads/NAME', async () => {
    const started = await call(bob.ui, 'POST', '/api/downloads', { body: { file: 'big.bin', from: 'alice' } });
    assert.equal(started.status, 202, started.text);
    assert.equal(started.json.download.holder, 'alice');
    const done = await eventually(async () => {
      const list = await call(bob.ui, 'GET', '/api/downloads');
      return list.json.finished.find((d: { file: string }) => d.file === 'big.bin');
    }, 10_000, 'the download to finish');
    assert.equal(done.state, 'finished');
    assert.equal(done.bytes, BIG.byteLength);
    assert.equal(done.url, '/downloads/big.bin');
    // By pieces: the bytes each holder sent, and nobody dropped.
    assert.deepEqual(done.bytesByHolder, { alice: BIG.byteLength });
    assert.deepEqual(done.dropped, []);
    assert.deepEqual(await readFile(join(bob.downloads, 'big.bin')), BIG);

    const opened = await call(bob.ui, 'GET', '/downloads/big.bin', { noToken: true });
    assert.equal(opened.status, 200);
    assert.equal(Number(opened.headers['content-length']), BIG.byteLength);
    assert.match(String(opened.headers['content-security-policy']), /^sandbox/);
    assert.match(String(opened.headers['content-disposition']), /^attachment/);

    const again = await call(bob.ui, 'POST', '/api/downloads', { body: { file: 'big.bin' } });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'DESTINATION_EXISTS');
    const nobody = await call(bob.ui, 'POST', '/api/downloads', { body: { file: 'nothing.txt' } });
    assert.equal(nobody.status, 404);
    assert.equal(nobody.json.error.code, 'NO_HOLDER');
    assert.match(nobody.json.error.message, /nobody shares "nothing.txt"/);
    const badFrom = await call(bob.ui, 'POST', '/api/downloads', { body: { file: 'hello.txt', from: 'no body' } });
    assert.equal(badFrom.status, 400);
    assert.equal(badFrom.json.error.field, 'from');
  });

  await t.test('downloaded files are served only from the download folder', async () => {
    await writeFile(join(bob.share, 'secret.txt'), 'not downloaded');
    await symlink(join(bob.share, 'secret.txt'), join(bob.downloads, 'link.txt'));
    await mkdir(join(bob.downloads, 'sub'));
    for (const path of ['/downloads/..%2Fsecret.txt', '/downloads/%2E%2E%2Fsecret.txt', '/downloads/%2Fetc%2Fpasswd']) {
      const reply = await call(bob.ui, 'GET', path);
      assert.equal(reply.status, 400, path);
    }
    for (const path of ['/downloads/link.txt', '/downloads/sub', '/downloads/nothing.txt']) {
      const reply = await call(bob.ui, 'GET', path);
      assert.equal(reply.status, 404, path);
    }
    assert.equal((await call(bob.ui, 'GET', '/downloads/..%ZZ')).status, 400);
  });

  await t.test('GET /api/events streams status first, then share changes as they happen', async () => {
    const events: string[] = [];
    const req = httpRequest({
      host: '127.0.0.1', port: alice.ui.address.port, path: `/api/events?token=${alice.ui.token}`,
      headers: { host: `127.0.0.1:${alice.ui.address.port}` },
    });
    const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      req.on('response', resolve).on('error', reject).end();
    });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    response.setEncoding('utf8');
    response.on('data', (text: string) => events.push(text));
    await eventually(() => events.join('').includes('event: status'), 2_000, 'the first status event');
    await call(alice.ui, 'POST', '/api/files/remove', { body: { name: 'notes.md' } });
    const share = await eventually(() => events.join('').split('\n\n').find((e) => e.startsWith('event: share')), 2_000, 'a share event');
    assert.deepEqual(JSON.parse(share.split('\ndata: ')[1]!).change.remove, ['notes.md']);
    req.destroy();
    await call(alice.ui, 'POST', '/api/files/publish', { body: { name: 'notes.md' } });
  });

  await t.test('POST /api/contact (UPDATE-CONTACT): the server answer, or its refusal in words', async () => {
    const denied = await call(alice.ui, 'POST', '/api/contact', { body: { ip: '0.0.0.0' } });
    assert.equal(denied.status, 409);
    assert.equal(denied.json.error.code, 'DENIED');
    assert.equal(denied.json.error.request, 'UPDATE-CONTACT');
    assert.match(denied.json.error.message, /unspecified address/);
    for (const [body, field] of [[{ tcpPort: 70_000 }, 'tcpPort'], [{ udpPort: 'x' }, 'udpPort'], [{ ip: 'localhost' }, 'ip']] as const) {
      const reply = await call(alice.ui, 'POST', '/api/contact', { body });
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.json.error.field, field);
      assert.match(reply.json.error.message, new RegExp(`^${field} must be`));
    }
    const confirmed = await call(alice.ui, 'POST', '/api/contact', { body: { ip: '127.0.0.1' } });
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.json.answer, 'UPDATE-CONFIRMED');
    assert.equal(confirmed.json.contact.ip, '127.0.0.1');
  });

  await t.test('POST /api/deregister and /api/register', async () => {
    const gone = await call(alice.ui, 'POST', '/api/deregister', { body: {} });
    assert.equal(gone.status, 200);
    assert.equal(gone.json.answer, 'DE-REGISTERED');
    const names = async () => (await call(bob.ui, 'GET', '/api/peers')).json.peers.map((p: { name: string }) => p.name);
    assert.deepEqual(await names(), ['bob']);
    const refused = await call(alice.ui, 'POST', '/api/files/publish', { body: { name: 'hello.txt' } });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error.code, 'NOT_REGISTERED');
    const back = await call(alice.ui, 'POST', '/api/register', { body: {} });
    assert.equal(back.status, 200);
    assert.equal(back.json.registration, 'registered');
    assert.deepEqual((await names()).sort(), ['alice', 'bob']);
    assert.deepEqual(await holders(bob.ui, 'hello.txt'), ['alice']);
  });

  await t.test('unknown paths, wrong methods, bad JSON and oversized bodies get JSON errors', async () => {
    const missing = await call(alice.ui, 'GET', '/api/nothing');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'NOT_FOUND');
    const method = await call(alice.ui, 'DELETE', '/api/files');
    assert.equal(method.status, 405);
    assert.equal(method.headers.allow, 'GET, POST');
    const garbage = await call(alice.ui, 'POST', '/api/files/publish', { raw: '{nope', headers: { 'content-type': 'application/json' } });
    assert.equal(garbage.status, 400);
    assert.match(garbage.json.error.message, /not valid JSON/);
    const array = await call(alice.ui, 'POST', '/api/files/publish', { body: ['hello.txt'] });
    assert.equal(array.status, 400);
    const huge = await call(alice.ui, 'POST', '/api/files/publish', { body: { name: 'x'.repeat(20_000) } });
    assert.equal(huge.status, 413);
    assert.equal(huge.json.error.code, 'TOO_LARGE');
  });
});
