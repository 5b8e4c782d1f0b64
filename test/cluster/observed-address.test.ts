// Issue 14 on a shared PostgreSQL registry: the observed address a server records is in the stored
// record, every server lists the peer as behind a NAT, and a NAT mapping that moves (the token from a
// new source port, through another server) moves it for all of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, uniqueName } from '../helpers/server.js';
import { ask, clusterDatabase, eventually, startCluster, storedPeers, type Instance } from './harness.js';

const db = await clusterDatabase();
const skip = db.skip;
const cluster = skip ? [] : await startCluster(2, db.url);
const [a, b] = cluster as [Instance, Instance];

let nextRq = 1;
const rq = () => nextRq++;


test('observed address: stored, listed by every server, and moved by the token from a new port', { skip }, async (t) => {
  const first = await RawClient.open(a.address, t);
  const name = uniqueName('natted');
  // Declares a LAN address; its datagrams come from 127.0.0.1 (as through a NAT).
  const registered = await ask(first, a, { type: 'REGISTER', rq: rq(), name, ip: '192.168.7.10', udpPort: 5001, tcpPort: 6001 });
  assert.equal(registered.type, 'REGISTERED', JSON.stringify(registered));
  assert.deepEqual([registered.observedIp, registered.observedUdpPort, registered.behindNat], ['127.0.0.1', first.address.port, true]);
  const token = registered.token as string;
  const [stored] = await storedPeers(db, name);
  assert.deepEqual([stored!.observedIp, stored!.observedUdpPort], ['127.0.0.1', first.address.port]);

  const observer = await RawClient.open(b.address, t);
  await ask(observer, b, { type: 'REGISTER', rq: rq(), name: uniqueName('observer'), ip: '127.0.0.1', udpPort: observer.address.port, tcpPort: 6002 });
  const listedBehindNat = await eventually(async () => (await ask(observer, b, { type: 'RETRIEVE-INFOT', rq: rq(), name })).behindNat === true);
  assert.ok(listedBehindNat, 'server b lists the peer as behind a NAT');

  // The NAT gives the peer a new mapping: its next WHO-AM-I, through the other server, moves it.
  const remapped = await RawClient.open(b.address, t);
  const youAre = await ask(remapped, b, { type: 'WHO-AM-I', rq: rq(), token });
  assert.deepEqual([youAre.type, youAre.observedUdpPort], ['YOU-ARE', remapped.address.port]);
  const [moved] = await storedPeers(db, name);
  assert.equal(moved!.observedUdpPort, remapped.address.port);
  const followed = await eventually(async () => (await ask(first, a, { type: 'WHO-AM-I', rq: rq(), token })).observedUdpPort !== undefined
    && (await storedPeers(db, name))[0]!.observedUdpPort === first.address.port);
  // Asking from the first socket again moves it back: both servers follow the token, wherever it comes from.
  assert.ok(followed, 'the observed address follows the token back through server a');

  // Without the token nobody moves it.
  const stranger = await RawClient.open(a.address, t);
  assert.equal((await ask(stranger, a, { type: 'WHO-AM-I', rq: rq() })).type, 'WHO-AM-I-DENIED');
  assert.equal((await storedPeers(db, name))[0]!.observedUdpPort, first.address.port);
});
