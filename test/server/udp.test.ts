// The server over real UDP: the handler scenario on 127.0.0.1 and ::1, dual stack reporting IPv4
// clients as plain IPv4, small datagram limits, expiry and logging through the server, and rate
// limiting that stops a flood from one source without starving the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log/index.js';
import { RawClient, startTestServer } from '../helpers/server.js';
import { basicScenario } from './scenario.js';

for (const host of ['127.0.0.1', '::1']) {
  test(`the basic scenario over UDP on ${host}`, async (t) => {
    const server = await startTestServer(t, { host });
    const c = await RawClient.open(server.target, t);
    await basicScenario((request) => c.request(request), c.address);
    assert.equal(server.stats().peers, 0);
  });
}

test('a dual-stack server (::) sees IPv4 clients as plain IPv4: address authorisation works', async (t) => {
  const server = await startTestServer(t, { host: '::' });
  const c = await RawClient.open({ host: '127.0.0.1', port: server.address.port }, t);
  const reply = await c.request({ type: 'REGISTER', rq: 1, name: 'v4', ip: '::ffff:127.0.0.1', udpPort: c.address.port, tcpPort: 1 });
  assert.equal(reply.type, 'REGISTERED');
  assert.equal(server.registry.peer('v4')?.ip, '127.0.0.1');
  assert.deepEqual(await c.request({ type: 'PUBLISH', rq: 2, name: 'v4', files: ['f'] }), { type: 'PUBLISHED', rq: 2 });
});

test('with --max-datagram 512 every page still fits and the scan is complete', async (t) => {
  const server = await startTestServer(t, { maxDatagram: 512 });
  const c = await RawClient.open(server.target, t);
  c.maxReplyBytes = 512;
  const { token } = (await c.request({ type: 'REGISTER', rq: 1, name: 'small', ip: c.address.ip, udpPort: c.address.port, tcpPort: 1 })) as { token: string };
  const files = Array.from({ length: 40 }, (_, i) => ({ name: `${'ж'.repeat(30)}-${i}`, size: i, sha256: 'a'.repeat(64) }));
  for (let i = 0; i < files.length; i += 2) assert.equal((await c.request({ type: 'PUBLISH', rq: 10 + i, name: 'small', files: files.slice(i, i + 2), token })).type, 'PUBLISHED');
  const listed: string[] = [];
  let cursor: string | undefined;
  for (let rq = 100; ; rq++) {
    const page = (await c.request({ type: 'RETRIEVE-ALL', rq, token, ...(cursor ? { cursor } : {}) })) as { peers: Array<{ files: Array<{ name: string }> }>; next?: string };
    listed.push(...page.peers.flatMap((p) => p.files.map((f) => f.name)));
    if (!page.next) break;
    cursor = page.next;
  }
  assert.deepEqual(listed, files.map((f) => f.name).sort());
  // 300 bytes of name: the request fits in 512 bytes, a page listing it with a cursor would not.
  const tooLong = await c.request({ type: 'PUBLISH', rq: 200, name: 'small', files: [{ name: 'ж'.repeat(150), sha256: 'a'.repeat(64) }], token });
  assert.equal(tooLong.type, 'PUBLISH-DENIED');
});

test('expiry through the server (fake clock) and a summary line with the counters', async (t) => {
  let now = 0;
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const logger = createLogger({ level: 'debug', stream: sink, pretty: false });
  const server = await startTestServer(t, { clock: () => now, expireAfterMs: 60_000, logger });
  const c = await RawClient.open(server.target, t);
  await c.request({ type: 'REGISTER', rq: 1, name: 'stale', ip: c.address.ip, udpPort: c.address.port, tcpPort: 1 });
  await c.request({ type: 'PUBLISH', rq: 2, name: 'stale', files: ['f'] });
  c.send('not json');
  await c.request({ type: 'NOPE', rq: 3 });
  now = 60_000;
  assert.deepEqual(await server.expireStale(), ['stale']);
  assert.equal((await c.request({ type: 'SEARCH-FILE', rq: 4, file: 'f' })).type, 'SEARCH-ERROR');
  server.logSummary();
  const events = lines.map((l) => JSON.parse(l) as Record<string, any>);
  const summary = events.find((e) => e.event === 'summary')!;
  assert.equal(summary.requests.REGISTER, 1);
  assert.equal(summary.dropped, 1);
  assert.equal(summary.errors, 1);
  assert.equal(summary.refused, 1);
  assert.equal(summary.peers, 0);
  assert.ok(events.some((e) => e.event === 'peer expired' && e.name === 'stale'));
  const received = events.find((e) => e.event === 'received' && e.type === 'PUBLISH')!;
  assert.equal(received.rq, 2);
  assert.equal(received.from, `127.0.0.1:${c.address.port}`);
  assert.ok(events.some((e) => e.event === 'reply' && e.type === 'PUBLISHED' && e.rq === 2));
});

test('a flooding source is rate limited without starving well-behaved ones; refusals are summarised, not logged per datagram', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const server = await startTestServer(t, { rateLimit: { perSecond: 100, burst: 100 }, logger: createLogger({ level: 'info', stream: sink, pretty: false }) });
  // The flooder has an address of its own (all of 127/8 is loopback on Linux).
  const flooder = await RawClient.open(server.target, t, '127.0.0.2');
  const peers = await Promise.all(Array.from({ length: 10 }, () => RawClient.open(server.target, t)));
  const flood = Buffer.from(JSON.stringify({ type: 'RETRIEVE-ALL', rq: 1 }));
  // 500 datagrams every 10 ms: the 50,000 a second (the flooder shares this process's event loop).
  const pump = setInterval(() => {
    for (let i = 0; i < 500; i++) flooder.send(flood);
  }, 10);
  t.after(() => clearInterval(pump));
  // The flood is on once its burst is spent: the first 100 got their "register first", the rest nothing.
  assert.ok(await flooder.waitFor((_, i) => i >= 99, 10_000), 'the flooder got its burst answered');
  await flooder.waitFor(() => server.stats().rateLimited > 0, 10_000);
  const answers = await Promise.all(
    peers.map(async (p, i) => {
      await p.request({ type: 'REGISTER', rq: 1, name: `calm-${i}`, ip: p.address.ip, udpPort: p.address.port, tcpPort: 1 });
      await p.request({ type: 'PUBLISH', rq: 2, name: `calm-${i}`, files: [`f${i}`] });
      return p.request({ type: 'SEARCH-FILE', rq: 3, file: 'f0' });
    }),
  );
  clearInterval(pump);
  for (const answer of answers) assert.equal(answer.type, 'SEARCH-FILE');
  const stats = server.stats();
  assert.ok(stats.rateLimited > 0, 'the flood was limited');
  await server.close();
  const limited = lines.map((l) => JSON.parse(l) as Record<string, any>).filter((e) => e.event === 'rate limited');
  assert.ok(limited.length >= 1 && limited.length <= 2, `${limited.length} rate-limit lines`);
  assert.equal(limited.reduce((n, e) => n + e.datagrams, 0), stats.rateLimited);
  assert.deepEqual(Object.keys(limited[0]!.busiest), ['127.0.0.2']);
});
