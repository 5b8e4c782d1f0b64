// Nobody changes another peer's registration: a mutation needs the name's token, or (without one)
// must come from the IP and UDP port the name registered. And a retransmitted request gets the
// identical reply and takes effect once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { client, deregisterAfter, expectRefusal, expectType, registeredPeer, rq } from './target.js';

test('another client cannot change my registration, by address or with a wrong token', async (t) => {
  const alice = await registeredPeer(t, 'alice');
  const mallory = await registeredPeer(t, 'mallory');
  const name = alice.name;
  const attempts = [
    { type: 'DE-REGISTER', name },
    { type: 'PUBLISH', name, files: ['evil.exe'] },
    { type: 'REMOVE', name, files: ['mine.txt'] },
    { type: 'UPDATE-CONTACT', name, ip: '192.0.2.66', udpPort: 6666, tcpPort: 6666 },
  ];
  expectType(await alice.client.request({ type: 'PUBLISH', rq: rq(), name, files: ['mine.txt'] }), 'PUBLISHED');
  const before = await alice.client.request({ type: 'RETRIEVE-INFOT', rq: rq(), name });
  for (const attempt of attempts) {
    const byAddress = await mallory.client.request({ ...attempt, rq: rq() });
    assert.match((byAddress as { reason: string }).reason, /^not authorised to change ".+": give its token, or send from the IP and UDP port it registered$/);
    const byOwnToken = await mallory.client.request({ ...attempt, rq: rq(), token: mallory.token });
    assert.match((byOwnToken as { reason: string }).reason, /^token does not match the registration of/);
    // A wrong token is refused even from alice's own address.
    const wrongFromHome = await alice.client.request({ ...attempt, rq: rq(), token: mallory.token });
    assert.match((wrongFromHome as { reason: string }).reason, /^token does not match the registration of/);
  }
  const hijack = await mallory.client.request({ type: 'REGISTER', rq: rq(), name, ip: mallory.client.address.ip, udpPort: mallory.client.address.port, tcpPort: 1, token: mallory.token });
  expectRefusal(hijack, 'REGISTER-DENIED', /already registered by another client \(the token given is not its token\)/);
  const after = await alice.client.request({ type: 'RETRIEVE-INFOT', rq: rq(), name });
  assert.deepEqual({ ...after, rq: 0 }, { ...before, rq: 0 });
});

test('the owner may change its registration by address (no token) or by token from anywhere', async (t) => {
  const alice = await registeredPeer(t, 'alice');
  const name = alice.name;
  expectType(await alice.client.request({ type: 'PUBLISH', rq: rq(), name, files: ['a.txt'] }), 'PUBLISHED');
  const laptop = await client(t);
  expectType(await laptop.request({ type: 'PUBLISH', rq: rq(), name, files: ['b.txt'], token: alice.token }), 'PUBLISHED');
  expectType(await laptop.request({ type: 'REMOVE', rq: rq(), name, files: ['a.txt'], token: alice.token }), 'REMOVED');
  // Moving the UDP contact to the laptop moves address authorisation with it.
  const moved = { ip: laptop.address.ip, udpPort: laptop.address.port, tcpPort: 6100 };
  expectType(await laptop.request({ type: 'UPDATE-CONTACT', rq: rq(), name, ...moved, token: alice.token }), 'UPDATE-CONFIRMED');
  expectType(await laptop.request({ type: 'PUBLISH', rq: rq(), name, files: ['c.txt'] }), 'PUBLISHED');
  expectRefusal(await alice.client.request({ type: 'PUBLISH', rq: rq(), name, files: ['d.txt'] }), 'PUBLISH-DENIED', /^not authorised/);
  const info = expectType(await laptop.request({ type: 'RETRIEVE-INFOT', rq: rq(), name }), 'RETRIEVE-INFOT');
  assert.deepEqual(info.files.map((f) => f.name), ['b.txt', 'c.txt']);
});

test('a retransmitted request gets the identical reply bytes and takes effect once', async (t) => {
  const c = await client(t);
  const { uniqueName } = await import('../helpers/server.js');
  const name = uniqueName('retry');
  const register = { type: 'REGISTER', rq: rq(), name, ip: c.address.ip, udpPort: c.address.port, tcpPort: 6000 };
  // Sent twice at once: the second arrives while the first is still being written to the store.
  c.send(register);
  const first = await c.exchange(register);
  const second = await c.exchange(register);
  assert.deepEqual(second.bytes, first.bytes);
  const token = expectType(first.reply, 'REGISTERED').token;

  // DE-REGISTER then REGISTER again under a new rq: a repeat of the old DE-REGISTER must not undo it.
  const leave = { type: 'DE-REGISTER', rq: rq(), name, token };
  const left = await c.exchange(leave);
  const back = expectType(await c.request({ ...register, rq: rq() }), 'REGISTERED');
  deregisterAfter(t, [[name, back.token]]);
  const repeated = await c.exchange(leave);
  assert.deepEqual(repeated.bytes, left.bytes);
  const still = await c.request({ type: 'PUBLISH', rq: rq(), name, files: ['x'], token: back.token });
  expectType(still, 'PUBLISHED');

  // The same rq with different bytes is a new request.
  const reused = rq();
  expectType(await c.request({ type: 'SEARCH-FILE', rq: reused, file: 'x', token: back.token }), 'SEARCH-FILE');
  expectType(await c.request({ type: 'PUBLISH', rq: reused, name, files: ['y'], token: back.token }), 'PUBLISHED');
  const files = expectType(await c.request({ type: 'RETRIEVE-INFOT', rq: rq(), name, token: back.token }), 'RETRIEVE-INFOT').files;
  assert.deepEqual(files.map((f) => f.name), ['x', 'y']);
});
