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
  assert.deepEqual(await client.searchFile('nobody-has-this.txt'), []);

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
