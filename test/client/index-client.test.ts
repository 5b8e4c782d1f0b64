// The index client against a real index server on loopback, and against sockets that misbehave on
// purpose (silent, answering with stray rqs and garbage, losing replies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { IndexClient, IndexClientError, type IndexClientOptions, type MessageSeen } from '../../src/client/index.js';
import type { FileEntry } from '../../src/generated/types.js';
import { startTestServer, uniqueName } from '../helpers/server.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

async function openClient(t: TestContext, options: IndexClientOptions): Promise<IndexClient> {
  const client = await IndexClient.open(options);
  t.after(() => client.close());
  return client;
}

/** A bound UDP socket on loopback that the test drives by hand. */
async function rawSocket(t: TestContext): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  t.after(() => socket.close());
  return socket;
}

const manyFiles = (count: number, prefix: string): FileEntry[] =>
  Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${String(i).padStart(4, '0')} with a longish name.txt`, size: i, sha256: sha(`${prefix}${i}`) }));

test('registers, publishes, searches, retrieves and de-registers against a real server', async (t) => {
  const server = await startTestServer(t);
  const seen: MessageSeen[] = [];
  const client = await openClient(t, { server: server.target, onMessage: (m) => seen.push(m) });
  const name = uniqueName('alice');
  const token = await client.register({ name, ip: '127.0.0.1', tcpPort: 6001 });
  assert.match(token, /^[0-9a-f]{32,}$/);
  assert.equal(client.token, token);

  await client.publish([{ name: 'notes.txt', size: 5, sha256: sha('notes') }, 'plain.txt']);
  const holders = await client.searchFile('notes.txt');
  assert.deepEqual(holders, [{ name, ip: '127.0.0.1', tcpPort: 6001, size: 5, sha256: sha('notes') }]);
  // The course's rule: a file nobody shares is SEARCH-ERROR, a refusal with the server's reason.
  await assert.rejects(client.searchFile('nobody-has-this.txt'), { code: 'DENIED', requestType: 'SEARCH-FILE', reason: 'nobody shares "nobody-has-this.txt"' });

  const info = await client.retrieveInfo(name);
  assert.deepEqual(info.files.map((f) => f.name).sort(), ['notes.txt', 'plain.txt']);
  const all = await client.retrieveAll();
  assert.ok(all.some((peer) => peer.name === name && peer.files.length === 2));

  await client.remove(['plain.txt', 'never-published.txt']);
  assert.deepEqual([...server.registry.peer(name)!.files.keys()], ['notes.txt']);

  const moved = await client.updateContact({ tcpPort: 6002 });
  assert.deepEqual(moved, { name, ip: '127.0.0.1', udpPort: client.udpPort, tcpPort: 6002 });

  await client.deregister();
  assert.equal(server.registry.peer(name), undefined);
  assert.equal(client.token, undefined);

  // Every request went out once with the token (after REGISTER) and got its answer.
  const sent = seen.filter((m) => m.direction === 'sent');
  assert.ok(sent.slice(1).every((m) => 'token' in m.message && m.message.token === token));
  assert.equal(seen.filter((m) => m.direction === 'received').length, sent.length);
});

test('a PUBLISH too big for one datagram goes out in batches, and paged lists are followed to the end', async (t) => {
  const server = await startTestServer(t);
  const seen: MessageSeen[] = [];
  const client = await openClient(t, { server: server.target, onMessage: (m) => seen.push(m) });
  const other = await openClient(t, { server: server.target });
  const name = uniqueName('big');
  await client.register({ name, ip: '127.0.0.1', tcpPort: 6001 });
  await other.register({ name: uniqueName('small'), ip: '127.0.0.1', tcpPort: 6003 });
  await other.publish([{ name: 'mine.txt', size: 1, sha256: sha('m') }]);

  const files = manyFiles(120, 'doc');
  await client.publish(files);
  const publishes = seen.filter((m) => m.direction === 'sent' && m.message.type === 'PUBLISH');
  assert.ok(publishes.length > 1, `expected several PUBLISH datagrams, got ${publishes.length}`);
  for (const p of publishes) assert.ok(Buffer.byteLength(JSON.stringify(p.message)) <= 1200);
  assert.equal(server.registry.peer(name)!.files.size, 120);

  seen.length = 0;
  const info = await client.retrieveInfo(name);
  assert.deepEqual(info.files.map((f) => f.name).sort(), files.map((f) => f.name).sort());
  assert.ok(seen.filter((m) => m.direction === 'sent').length > 1, 'RETRIEVE-INFOT should have needed several pages');

  // RETRIEVE-ALL: the big peer spans pages and must come back as one listing with all its files.
  seen.length = 0;
  const all = await client.retrieveAll();
  assert.ok(seen.filter((m) => m.direction === 'sent').length > 1, 'RETRIEVE-ALL should have needed several pages');
  const listed = all.filter((peer) => peer.name === name);
  assert.equal(listed.length, 1);
  assert.equal(listed[0]!.files.length, 120);
  assert.equal(new Set(all.map((p) => p.name)).size, all.length);

  // SEARCH-FILE pages too when many peers hold one file.
  const holders = [];
  for (let i = 0; i < 25; i++) {
    const holder = await openClient(t, { server: server.target });
    await holder.register({ name: uniqueName(`h${i}`), ip: '127.0.0.1', tcpPort: 7000 + i });
    await holder.publish([{ name: 'popular.iso', size: 42, sha256: sha('popular') }]);
    holders.push(holder);
  }
  seen.length = 0;
  const found = await client.searchFile('popular.iso');
  assert.equal(found.length, 25);
  assert.ok(seen.filter((m) => m.direction === 'sent').length > 1, 'SEARCH-FILE should have needed several pages');

  seen.length = 0;
  await client.remove(files.map((f) => f.name));
  assert.ok(seen.filter((m) => m.direction === 'sent' && m.message.type === 'REMOVE').length > 1);
  assert.equal(server.registry.peer(name)!.files.size, 0);
});

test('a refusal is DENIED with the server reason; a bad field is refused before sending', async (t) => {
  const server = await startTestServer(t);
  const first = await openClient(t, { server: server.target });
  const second = await openClient(t, { server: server.target });
  const name = uniqueName('taken');
  await first.register({ name, ip: '127.0.0.1', tcpPort: 6001 });
  await assert.rejects(second.register({ name, ip: '127.0.0.1', tcpPort: 6002 }), (error: unknown) => {
    assert.ok(error instanceof IndexClientError);
    assert.equal(error.code, 'DENIED');
    assert.match(error.message, /already registered/);
    return true;
  });
  await assert.rejects(second.searchFile('x.txt'), { code: 'DENIED', message: /register first/ });
  await assert.rejects(first.register({ name: 'a b', ip: '127.0.0.1', tcpPort: 1 }), {
    code: 'INVALID',
    message: /name "a b" may only contain letters, digits/,
  });
  await assert.rejects(second.publish(['x']), { code: 'NOT_REGISTERED' });
});

test('a silent server makes the request fail with TIMEOUT after every try of the same bytes', async (t) => {
  const silent = await rawSocket(t);
  const received: Buffer[] = [];
  silent.on('message', (bytes) => received.push(bytes));
  const port = silent.address().port;
  const client = await openClient(t, { server: { host: '127.0.0.1', port }, retry: { attempts: 3, firstTimeoutMs: 20, maxTimeoutMs: 40 } });
  await assert.rejects(client.register({ name: 'alice', ip: '127.0.0.1', tcpPort: 6001 }), (error: unknown) => {
    assert.ok(error instanceof IndexClientError);
    assert.equal(error.code, 'TIMEOUT');
    assert.match(error.message, new RegExp(`^index server 127\\.0\\.0\\.1:${port} did not answer REGISTER after 3 tries \\(\\d+\\.\\d s\\)$`));
    return true;
  });
  assert.equal(received.length, 3);
  assert.ok(received.every((bytes) => bytes.equals(received[0]!)), 'every try must resend the same bytes');
});

test('replies with an unknown rq, garbage and strangers are ignored; the real reply is used', async (t) => {
  const fake = await rawSocket(t);
  const stranger = await rawSocket(t);
  const seen: MessageSeen[] = [];
  fake.on('message', (bytes, from) => {
    const request = JSON.parse(bytes.toString()) as { rq: number };
    const send = (message: object | string, socket = fake) =>
      socket.send(typeof message === 'string' ? message : JSON.stringify(message), from.port, from.address);
    send({ type: 'REGISTERED', rq: (request.rq + 1) % 2 ** 31, token: 'f'.repeat(32) }); // someone else's rq
    send('not json at all');
    send({ type: 'PUBLISHED', rq: request.rq }); // right rq, wrong kind of reply
    send({ type: 'REGISTERED', rq: request.rq, token: 'e'.repeat(32) }, stranger); // right rq, wrong sender
    setImmediate(() => send({ type: 'REGISTERED', rq: request.rq, token: 'a'.repeat(32) }));
  });
  const client = await openClient(t, { server: { host: '127.0.0.1', port: fake.address().port }, onMessage: (m) => seen.push(m) });
  assert.equal(await client.register({ name: 'alice', ip: '127.0.0.1', tcpPort: 6001 }), 'a'.repeat(32));
  const ignored = seen.filter((m) => m.ignored);
  assert.deepEqual(ignored.map((m) => m.message.type), ['REGISTERED', 'PUBLISHED']);
  assert.match(ignored[0]!.ignored!, /no request waits for rq/);
});

test('a lost reply is recovered by resending the same bytes, and the mutation takes effect once', async (t) => {
  const server = await startTestServer(t);
  // A relay that forwards everything but drops the first reply to each request type.
  const relay = await rawSocket(t);
  const dropped = new Set<string>();
  let client: { address: string; port: number } | undefined;
  relay.on('message', (bytes, from) => {
    if (from.port !== server.target.port) {
      client = from;
      relay.send(bytes, server.target.port, server.target.host);
      return;
    }
    const type = (JSON.parse(bytes.toString()) as { type: string }).type;
    if (!dropped.has(type)) {
      dropped.add(type);
      return;
    }
    relay.send(bytes, client!.port, client!.address);
  });
  const seen: MessageSeen[] = [];
  const peer = await openClient(t, {
    server: { host: '127.0.0.1', port: relay.address().port },
    retry: { firstTimeoutMs: 50 },
    onMessage: (m) => seen.push(m),
  });
  const name = uniqueName('lossy');
  const token = await peer.register({ name, ip: '127.0.0.1', tcpPort: 6001 });
  await peer.publish([{ name: 'a.txt', size: 1, sha256: sha('a') }]);
  assert.equal(server.registry.peer(name)!.files.size, 1);
  assert.equal(server.registry.snapshot().peers.find((p) => p.name === name)!.token, token);
  const registers = seen.filter((m) => m.direction === 'sent' && m.message.type === 'REGISTER');
  assert.deepEqual(registers.map((m) => m.attempt), [1, 2]);
  assert.equal(registers[0]!.message.rq, registers[1]!.message.rq);
});

test('several servers: after failoverAfter silent tries the same bytes go to the next; only a server asked may answer', async (t) => {
  const [first, second, third] = [await rawSocket(t), await rawSocket(t), await rawSocket(t)];
  const at = (s: Socket) => ({ host: '127.0.0.1', port: s.address().port });
  const seen: MessageSeen[] = [];
  const client = await openClient(t, {
    server: [at(first), at(second), at(third)],
    retry: { attempts: 6, firstTimeoutMs: 40, maxTimeoutMs: 40, failoverAfter: 2 },
    probeFirstEveryMs: 60_000,
    onMessage: (m) => seen.push(m),
  });
  const received: Array<{ by: string; bytes: string }> = [];
  for (const [by, socket] of [['first', first], ['second', second], ['third', third]] as const) {
    socket.on('message', (bytes, from) => {
      received.push({ by, bytes: bytes.toString() });
      const { rq } = JSON.parse(bytes.toString()) as { rq: number };
      if (by === 'third') {
        // The third was never asked this rq: its answer must be ignored; then the second answers.
        third.send(JSON.stringify({ type: 'SEARCH-FILE', rq, file: 'x', peers: [] }), from.port, from.address);
      }
      if (by === 'second') second.send(JSON.stringify({ type: 'SEARCH-FILE', rq, file: 'x', peers: [{ name: 'p', ip: '192.0.2.1', tcpPort: 1 }] }), from.port, from.address);
    });
  }
  // The first is silent: two tries there, then the second answers.
  const reply = await client.request({ type: 'SEARCH-FILE', file: 'x' });
  assert.deepEqual(received.map((r) => r.by), ['first', 'first', 'second']);
  assert.equal(new Set(received.map((r) => r.bytes)).size, 1, 'every try carries the same bytes');
  assert.equal(reply.type, 'SEARCH-FILE');
  assert.equal(client.serverLabel, `127.0.0.1:${second.address().port}`, 'the client stays with the server that answered');
  // The next request goes to the second at once; a reply from the third, which was not asked, is ignored.
  third.send(JSON.stringify({ type: 'SEARCH-FILE', rq: 1, file: 'x', peers: [] }), client.udpPort, '127.0.0.1');
  await client.request({ type: 'SEARCH-FILE', file: 'x' });
  assert.deepEqual(received.map((r) => r.by), ['first', 'first', 'second', 'second']);
  const sent = JSON.parse(received.at(-1)!.bytes) as { rq: number };
  // A reply for an rq only the second was asked, coming from the third, is not taken as its answer.
  const stray = await new Promise<MessageSeen | undefined>((resolve) => {
    const before = seen.length;
    client.request({ type: 'SEARCH-FILE', file: 'y' }).catch(() => {});
    setTimeout(() => resolve(seen.slice(before).find((m) => m.ignored)), 30);
    third.send(JSON.stringify({ type: 'SEARCH-FILE', rq: sent.rq + 1, file: 'y', peers: [] }), client.udpPort, '127.0.0.1');
  });
  assert.match(stray?.ignored ?? '', /was not sent to 127\.0\.0\.1:\d+/);
});

test('several servers: while away from the first, it is asked now and then, and the client goes back once it answers', async (t) => {
  const [first, second] = [await rawSocket(t), await rawSocket(t)];
  const at = (s: Socket) => ({ host: '127.0.0.1', port: s.address().port });
  const client = await openClient(t, {
    server: [at(first), at(second)],
    retry: { attempts: 4, firstTimeoutMs: 30, maxTimeoutMs: 30, failoverAfter: 1 },
    probeFirstEveryMs: 50,
  });
  let firstAnswers = false;
  const answer = (socket: Socket) => (bytes: Buffer, from: { port: number; address: string }) => {
    const { rq, file } = JSON.parse(bytes.toString()) as { rq: number; file: string };
    socket.send(JSON.stringify({ type: 'SEARCH-FILE', rq, file, peers: [] }), from.port, from.address);
  };
  first.on('message', (bytes, from) => firstAnswers && answer(first)(bytes, from));
  second.on('message', answer(second));
  await client.request({ type: 'SEARCH-FILE', file: 'a' });
  assert.equal(client.serverLabel, `127.0.0.1:${second.address().port}`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(client.serverLabel, `127.0.0.1:${second.address().port}`, 'the first stays silent: the client stays away');
  firstAnswers = true;
  const deadline = Date.now() + 5000;
  while (client.serverLabel !== `127.0.0.1:${first.address().port}` && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(client.serverLabel, `127.0.0.1:${first.address().port}`, 'back to the first once it answers');
});

test('one server: the retry budget is as before, failoverAfter changes nothing', async (t) => {
  const silent = await rawSocket(t);
  let tries = 0;
  silent.on('message', () => tries++);
  const client = await openClient(t, { server: { host: '127.0.0.1', port: silent.address().port }, retry: { attempts: 4, firstTimeoutMs: 20, maxTimeoutMs: 20, failoverAfter: 1 } });
  await assert.rejects(client.request({ type: 'SEARCH-FILE', file: 'x' }), (error: unknown) => error instanceof IndexClientError && error.code === 'TIMEOUT' && /after 4 tries/.test(error.message));
  assert.equal(tries, 4);
});
