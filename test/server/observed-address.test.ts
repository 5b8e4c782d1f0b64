// Issue 14, how a peer is seen: the server keeps where each peer's datagrams come from beside the
// address it registered, says so in REGISTERED and YOU-ARE, marks peers behind a NAT in listings,
// follows a NAT mapping that moves (only with the peer's token), and keeps it in the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { validateUdpReply, type UdpReply, type UdpRequest } from '../../src/generated/catalogue.js';
import { decodeUdpRequest } from '../../src/protocol/index.js';
import { Registry, type StoredPeer, type UdpContact } from '../../src/registry/index.js';
import { Counters } from '../../src/server/counters.js';
import { Answers } from '../../src/server/index.js';
import { KeptPages } from '../../src/server/replies/kept-pages.js';
import { silentLogger } from '../../src/log/index.js';
import { openStore, type ChangeSink, type Ledger, type LedgerItem } from '../../src/stores/index.js';
import { SoleWriterLedger } from '../../src/stores/sole-writer-ledger.js';

/** Where a peer on a home LAN says it is, and where its NAT makes its datagrams come from. */
const LAN = { ip: '192.168.1.10', udpPort: 5001 };
const MAPPED: UdpContact = { ip: '198.51.100.7', port: 40312 };
const PUBLIC: UdpContact = { ip: '198.51.100.20', port: 5002 };

async function setUp() {
  const url = `memory://observed-${randomUUID()}`;
  const registry = await Registry.open(await openStore<StoredPeer>(url, 'peers'));
  const answers = new Answers({ registry, maxDatagram: 1200, keptPages: new KeptPages(registry), counters: new Counters(), log: silentLogger });
  const send = async (from: UdpContact, request: Record<string, unknown>): Promise<UdpReply & Record<string, unknown>> => {
    const bytes = Buffer.from(JSON.stringify(request));
    const decoded: UdpRequest = decodeUdpRequest(bytes);
    const reply = JSON.parse((await answers.answer(decoded, from, bytes)).toString()) as UdpReply & Record<string, unknown>;
    assert.ok(validateUdpReply[reply.type](reply), `${reply.type} breaks its schema: ${JSON.stringify(reply)}`);
    return reply;
  };
  return { url, registry, send };
}

test('REGISTERED says how the peer is seen; listings mark the peer behind a NAT, and only it', async () => {
  const { send } = await setUp();
  const natted = await send(MAPPED, { type: 'REGISTER', rq: 1, name: 'home', ...LAN, tcpPort: 6001 });
  assert.deepEqual({ ...natted, token: undefined }, {
    type: 'REGISTERED', rq: 1, token: undefined, observedIp: MAPPED.ip, observedUdpPort: MAPPED.port, behindNat: true,
  });
  const direct = await send(PUBLIC, { type: 'REGISTER', rq: 1, name: 'office', ip: PUBLIC.ip, udpPort: PUBLIC.port, tcpPort: 6002 });
  assert.equal(direct.behindNat, false);
  assert.equal(direct.observedIp, PUBLIC.ip);
  await send(MAPPED, { type: 'PUBLISH', rq: 2, name: 'home', files: ['a.txt'], token: natted.token });
  await send(PUBLIC, { type: 'PUBLISH', rq: 2, name: 'office', files: ['a.txt'] });

  const all = await send(PUBLIC, { type: 'RETRIEVE-ALL', rq: 3 });
  assert.deepEqual(all.peers, [
    { name: 'home', ip: LAN.ip, tcpPort: 6001, behindNat: true, files: [{ name: 'a.txt' }] },
    { name: 'office', ip: PUBLIC.ip, tcpPort: 6002, files: [{ name: 'a.txt' }] },
  ]);
  const search = await send(PUBLIC, { type: 'SEARCH-FILE', rq: 4, file: 'a.txt' });
  assert.deepEqual(search.peers, [
    { name: 'home', ip: LAN.ip, tcpPort: 6001, behindNat: true },
    { name: 'office', ip: PUBLIC.ip, tcpPort: 6002 },
  ]);
  assert.equal((await send(PUBLIC, { type: 'RETRIEVE-INFOT', rq: 5, name: 'home' })).behindNat, true);
  assert.equal((await send(PUBLIC, { type: 'RETRIEVE-INFOT', rq: 6, name: 'office' })).behindNat, undefined);
});

test('WHO-AM-I: YOU-ARE for a registered client, WHO-AM-I-DENIED for anyone else', async () => {
  const { send } = await setUp();
  const denied = await send(MAPPED, { type: 'WHO-AM-I', rq: 1 });
  assert.equal(denied.type, 'WHO-AM-I-DENIED');
  assert.match(String(denied.reason), /register first/);
  const { token } = await send(MAPPED, { type: 'REGISTER', rq: 2, name: 'home', ...LAN, tcpPort: 6001 });
  assert.deepEqual(await send(MAPPED, { type: 'WHO-AM-I', rq: 3, token }), {
    type: 'YOU-ARE', rq: 3, name: 'home', ...LAN, observedIp: MAPPED.ip, observedUdpPort: MAPPED.port, behindNat: true,
  });
  const wrongToken = await send(MAPPED, { type: 'WHO-AM-I', rq: 4, token: 'f'.repeat(32) });
  assert.equal(wrongToken.type, 'WHO-AM-I-DENIED');
  // Without a token, the source must be the address a peer registered: a NATed peer's is not.
  assert.equal((await send(MAPPED, { type: 'WHO-AM-I', rq: 5 })).type, 'WHO-AM-I-DENIED');
  await send(PUBLIC, { type: 'REGISTER', rq: 6, name: 'office', ip: PUBLIC.ip, udpPort: PUBLIC.port, tcpPort: 6002 });
  const office = await send(PUBLIC, { type: 'WHO-AM-I', rq: 7 });
  assert.equal(office.name, 'office');
  assert.equal(office.behindNat, false);
});

test('the token from a new source port moves the observed address; nothing else can', async () => {
  const { url, registry, send } = await setUp();
  const { token } = await send(MAPPED, { type: 'REGISTER', rq: 1, name: 'home', ...LAN, tcpPort: 6001 });
  const remapped = { ip: MAPPED.ip, port: MAPPED.port + 1 };
  const moved = await send(remapped, { type: 'WHO-AM-I', rq: 2, token });
  assert.equal(moved.observedUdpPort, remapped.port);
  // Any request with the token follows the mapping too (here a read, stored after its answer).
  const again = { ip: MAPPED.ip, port: MAPPED.port + 2 };
  await send(again, { type: 'RETRIEVE-ALL', rq: 3, token });
  await registry.settled();
  assert.equal(registry.peer('home')!.observedUdpPort, again.port);

  // An attacker: no token, a wrong token, a REGISTER of the name without its token.
  const attacker: UdpContact = { ip: '203.0.113.66', port: 4444 };
  assert.equal((await send(attacker, { type: 'WHO-AM-I', rq: 4 })).type, 'WHO-AM-I-DENIED');
  assert.equal((await send(attacker, { type: 'WHO-AM-I', rq: 5, token: 'e'.repeat(32) })).type, 'WHO-AM-I-DENIED');
  assert.equal((await send(attacker, { type: 'REGISTER', rq: 6, name: 'home', ...LAN, tcpPort: 6001 })).type, 'REGISTER-DENIED');
  assert.equal((await send(attacker, { type: 'PUBLISH', rq: 7, name: 'home', files: ['x'] })).type, 'PUBLISH-DENIED');
  await registry.settled();
  assert.deepEqual([registry.peer('home')!.observedIp, registry.peer('home')!.observedUdpPort], [again.ip, again.port]);

  // The observed address is part of the stored record: a restarted server knows it.
  const reopened = await Registry.open(await openStore<StoredPeer>(url, 'peers'));
  assert.equal(reopened.peer('home')!.observedUdpPort, again.port);
  assert.equal(reopened.peer('home')!.behindNat, true);
});

test('a record of a peer seen where it registered is stored as before (no observed fields)', async () => {
  const { registry, send } = await setUp();
  await send(PUBLIC, { type: 'REGISTER', rq: 1, name: 'office', ip: PUBLIC.ip, udpPort: PUBLIC.port, tcpPort: 6002 });
  const [stored] = registry.snapshot().peers;
  assert.equal(stored!.observedIp, undefined);
  assert.equal(stored!.observedUdpPort, undefined);
});

/** A ledger that says it is shared (every decision is committed, even one that changes nothing) and takes its time. */
class SlowSharedLedger implements Ledger {
  readonly shared = true;
  commits = 0;
  constructor(private readonly inner: SoleWriterLedger) {}
  get description() {
    return this.inner.description;
  }
  open(sink: ChangeSink) {
    return this.inner.open(sink);
  }
  async commit(item: LedgerItem) {
    this.commits++;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return this.inner.commit(item);
  }
  touch() {}
  caughtUp() {
    return this.inner.caughtUp();
  }
  stats() {
    return this.inner.stats();
  }
  close() {
    return this.inner.close();
  }
}

test('reads from a peer\'s new source store its observed address once, not once per read in flight', async () => {
  const ledger = new SlowSharedLedger(new SoleWriterLedger(await openStore<StoredPeer>(`memory://observed-${randomUUID()}`, 'peers')));
  const registry = await Registry.open(ledger);
  const answers = new Answers({ registry, maxDatagram: 1200, keptPages: new KeptPages(registry), counters: new Counters(), log: silentLogger });
  const send = async (from: UdpContact, request: Record<string, unknown>) => {
    const bytes = Buffer.from(JSON.stringify(request));
    return JSON.parse((await answers.answer(decodeUdpRequest(bytes), from, bytes)).toString()) as Record<string, unknown>;
  };
  const { token } = await send(MAPPED, { type: 'REGISTER', rq: 1, name: 'home', ...LAN, tcpPort: 6001 });
  const before = ledger.commits;
  const moved: UdpContact = { ip: MAPPED.ip, port: MAPPED.port + 1 };
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => send(moved, { type: 'RETRIEVE-INFOT', rq: 10 + i, name: 'home', token })));
  assert.ok(replies.every((reply) => reply.type === 'RETRIEVE-INFOT'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(ledger.commits - before, 1, 'one commit moves the observed address');
  const seen = await send(moved, { type: 'WHO-AM-I', rq: 99, token });
  assert.equal(seen.observedUdpPort, moved.port);
});
