// The handlers without a socket: the same scenario as over UDP, a store that fails, expiry on a fake
// clock, and the per-peer rules the registry adds to the schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { validateUdpReply, type UdpReply, type UdpRequest } from '../../src/generated/catalogue.js';
import { decodeUdpRequest } from '../../src/protocol/index.js';
import { Registry, type RegistryStore, type StoredPeer } from '../../src/registry/index.js';
import { Counters } from '../../src/server/counters.js';
import { Answers } from '../../src/server/index.js';
import { KeptPages } from '../../src/server/replies/kept-pages.js';
import { silentLogger } from '../../src/log/index.js';
import { openStore } from '../../src/stores/index.js';
import { basicScenario, type Send } from './scenario.js';

const FROM = { ip: '192.0.2.1', port: 5001 };

/** Sends through the same decode edge as the socket, then straight into the handlers' one entry. */
function sender(registry: Registry, from = FROM, maxDatagram = 1200): Send {
  const answers = new Answers({ registry, maxDatagram, keptPages: new KeptPages(registry), counters: new Counters(), log: silentLogger });
  return async (request) => {
    const bytes = Buffer.from(JSON.stringify(request));
    const decoded: UdpRequest = decodeUdpRequest(bytes);
    const reply = JSON.parse((await answers.answer(decoded, from, bytes)).toString()) as UdpReply;
    assert.ok(validateUdpReply[reply.type](reply), `${reply.type} breaks its schema: ${JSON.stringify(reply)}`);
    assert.ok(Buffer.byteLength(JSON.stringify(reply)) <= maxDatagram);
    return reply;
  };
}

async function memoryRegistry(clock?: () => number): Promise<{ registry: Registry; url: string }> {
  const url = `memory://handlers-${randomUUID()}`;
  const store = await openStore<StoredPeer>(url, 'peers');
  return { registry: await Registry.open(store, { clock }), url };
}

test('the basic scenario, handlers called without a socket', async () => {
  const { registry } = await memoryRegistry();
  await basicScenario(sender(registry), FROM);
  assert.deepEqual(registry.snapshot(), { peers: [] });
});

test('what a mutation acknowledged is in the store: a registry reopened on it serves the same', async () => {
  const { registry, url } = await memoryRegistry();
  const send = sender(registry);
  await send({ type: 'REGISTER', rq: 1, name: 'bob', ip: FROM.ip, udpPort: FROM.port, tcpPort: 6002 });
  await send({ type: 'PUBLISH', rq: 2, name: 'bob', files: [{ name: 'x', size: 1 }, 'y'] });
  await send({ type: 'REMOVE', rq: 3, name: 'bob', files: ['y'] });
  const reopened = await Registry.open(await openStore<StoredPeer>(url, 'peers'));
  assert.deepEqual(reopened.snapshot(), registry.snapshot());
  assert.deepEqual(reopened.holdersOf('x').map((p) => p.name), ['bob']);
});

/** A store that works until told to fail, like a database that goes away at run time. */
function flakyStore(): RegistryStore & { failing: boolean } {
  const data = new Map<string, StoredPeer>();
  return {
    failing: false,
    description: 'flaky://test',
    async entries() {
      return [...data];
    },
    async set(key, value) {
      if (this.failing) throw new Error('connection refused (127.0.0.1:5432)');
      data.set(key, structuredClone(value));
    },
    async delete(key) {
      if (this.failing) throw new Error('connection refused (127.0.0.1:5432)');
      data.delete(key);
    },
  };
}

test('a store that fails at run time: every mutation is refused saying so, and nothing changes', async () => {
  const store = flakyStore();
  const registry = await Registry.open(store);
  const send = sender(registry);
  const { token } = (await send({ type: 'REGISTER', rq: 1, name: 'carol', ip: FROM.ip, udpPort: FROM.port, tcpPort: 6003 })) as { token: string };
  await send({ type: 'PUBLISH', rq: 2, name: 'carol', files: ['kept'] });
  const before = registry.snapshot();
  store.failing = true;
  const mutations = [
    { type: 'REGISTER', rq: 3, name: 'dave', ip: FROM.ip, udpPort: FROM.port, tcpPort: 1 },
    { type: 'REGISTER', rq: 4, name: 'carol', ip: '192.0.2.99', udpPort: FROM.port, tcpPort: 1, token },
    { type: 'PUBLISH', rq: 5, name: 'carol', files: ['new'] },
    { type: 'REMOVE', rq: 6, name: 'carol', files: ['kept'] },
    { type: 'UPDATE-CONTACT', rq: 7, name: 'carol', ip: '192.0.2.2', udpPort: 2, tcpPort: 2 },
    { type: 'DE-REGISTER', rq: 8, name: 'carol' },
  ];
  for (const request of mutations) {
    const reply = (await send(request)) as { type: string; reason: string };
    assert.match(reply.type, /-DENIED$/);
    assert.match(reply.reason, /^the registry store is unavailable \(connection refused \(127\.0\.0\.1:5432\)\); nothing was changed, try again$/);
  }
  assert.deepEqual(registry.snapshot(), before);
  // Reads never touch the store: they keep working while it is down.
  assert.equal((await send({ type: 'SEARCH-FILE', rq: 9, file: 'kept' })).type, 'SEARCH-FILE');
  store.failing = false;
  assert.deepEqual(await send({ type: 'PUBLISH', rq: 10, name: 'carol', files: ['new'] }), { type: 'PUBLISHED', rq: 10 });
});

test('expiry on a fake clock: a peer not heard from expires like a DE-REGISTER; an active one stays', async () => {
  let now = 1_000_000;
  const { registry } = await memoryRegistry(() => now);
  const quiet = sender(registry, { ip: '192.0.2.10', port: 1 });
  const busy = sender(registry, { ip: '192.0.2.11', port: 1 });
  await quiet({ type: 'REGISTER', rq: 1, name: 'quiet', ip: '192.0.2.10', udpPort: 1, tcpPort: 1 });
  await quiet({ type: 'PUBLISH', rq: 2, name: 'quiet', files: ['shared.txt'] });
  await busy({ type: 'REGISTER', rq: 1, name: 'busy', ip: '192.0.2.11', udpPort: 1, tcpPort: 1 });
  await busy({ type: 'PUBLISH', rq: 2, name: 'busy', files: ['shared.txt'] });
  now += 200_000;
  await busy({ type: 'SEARCH-FILE', rq: 3, file: 'x' }); // any authorised request counts as a sign of life
  now += 200_000;
  assert.deepEqual(await registry.expireStale(300_000), ['quiet']);
  assert.deepEqual(registry.names(), ['busy']);
  assert.deepEqual(registry.holdersOf('shared.txt').map((p) => p.name), ['busy']);
  assert.equal(registry.fileCount, 1);
  // The expired name is free again, and its old address no longer counts as registered.
  assert.equal((await quiet({ type: 'RETRIEVE-ALL', rq: 4 })).type, 'RETRIEVE-ERROR');
  assert.equal((await busy({ type: 'REGISTER', rq: 5, name: 'quiet', ip: '192.0.2.11', udpPort: 1, tcpPort: 1 })).type, 'REGISTERED');
  // busy was last heard from at its search; the new "quiet" was registered 299,999 ms ago.
  now += 299_999;
  assert.deepEqual(await registry.expireStale(300_000), ['busy']);
  assert.deepEqual(registry.names(), ['quiet']);
});

test('per-peer rules: a cap on shared files, refused as a whole; an unpaired surrogate is refused', async () => {
  const store = await openStore<StoredPeer>(`memory://cap-${randomUUID()}`, 'peers');
  const registry = await Registry.open(store, { maxFilesPerPeer: 5 });
  const send = sender(registry);
  await send({ type: 'REGISTER', rq: 1, name: 'erin', ip: FROM.ip, udpPort: FROM.port, tcpPort: 1 });
  await send({ type: 'PUBLISH', rq: 2, name: 'erin', files: ['1', '2', '3', '4'] });
  const over = (await send({ type: 'PUBLISH', rq: 3, name: 'erin', files: ['4', '5', '6'] })) as { type: string; reason: string };
  assert.equal(over.type, 'PUBLISH-DENIED');
  assert.match(over.reason, /would make "erin" share 6 files; the limit is 5 per peer/);
  assert.equal(registry.fileCount, 4);
  const surrogate = (await send({ type: 'PUBLISH', rq: 4, name: 'erin', files: ['ok', 'bad\ud800'] })) as { reason: string };
  assert.match(surrogate.reason, /^files\[1\] .* unpaired surrogate/);
  assert.equal(registry.fileCount, 4);
});

test('concurrent mutations of one name apply in arrival order; each reply reflects its own step', async () => {
  const { registry } = await memoryRegistry();
  const send = sender(registry);
  await send({ type: 'REGISTER', rq: 1, name: 'frank', ip: FROM.ip, udpPort: FROM.port, tcpPort: 1 });
  const replies = await Promise.all([
    send({ type: 'PUBLISH', rq: 2, name: 'frank', files: ['a'] }),
    send({ type: 'REMOVE', rq: 3, name: 'frank', files: ['a'] }),
    send({ type: 'PUBLISH', rq: 4, name: 'frank', files: ['b'] }),
    send({ type: 'DE-REGISTER', rq: 5, name: 'frank' }),
    send({ type: 'PUBLISH', rq: 6, name: 'frank', files: ['c'] }),
  ]);
  assert.deepEqual(replies.map((r) => r.type), ['PUBLISHED', 'REMOVED', 'PUBLISHED', 'DE-REGISTERED', 'PUBLISH-DENIED']);
  assert.deepEqual(registry.snapshot(), { peers: [] });
  assert.equal(registry.fileCount, 0);
});

test('REGISTER of a taken name says how long until it expires if its peer is gone, and what to do', async () => {
  let now = 1_000_000;
  const url = `memory://handlers-${randomUUID()}`;
  const registry = await Registry.open(await openStore<StoredPeer>(url, 'peers'), { clock: () => now, expireAfterMs: 300_000 });
  await sender(registry)({ type: 'REGISTER', rq: 1, name: 'henry', ip: FROM.ip, udpPort: FROM.port, tcpPort: 6001 });
  now += 20_000;
  const elsewhere = sender(registry, { ip: '192.0.2.9', port: 5009 });
  const taken = await elsewhere({ type: 'REGISTER', rq: 2, name: 'henry', ip: '192.0.2.9', udpPort: 5009, tcpPort: 6009 });
  assert.deepEqual(taken, {
    type: 'REGISTER-DENIED', rq: 2,
    reason: 'name "henry" is already registered by another client; last heard from 20 s ago; if that peer is gone, the name expires in 4 min 40 s: wait, or pick another name',
  });
  const never = await Registry.open(await openStore<StoredPeer>(url, 'peers'), { clock: () => now });
  const refused = await sender(never, { ip: '192.0.2.9', port: 5009 })({ type: 'REGISTER', rq: 3, name: 'henry', ip: '192.0.2.9', udpPort: 5009, tcpPort: 6009, token: 'f'.repeat(32) });
  assert.equal((refused as { reason: string }).reason, 'name "henry" is already registered by another client (the token given is not its token); registrations never expire on this server: stop that peer, or pick another name');
});
