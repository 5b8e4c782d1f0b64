// Issue 14, CALLBACK → CONNECT-BACK over real UDP: the push goes to the holder's observed address and
// names the requester by its datagram's source; only registered clients may ask, only for registered
// holders; each requester IP has a budget; and the bytes the server sends per CALLBACK stay within
// the amplification factor README.md states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectBackPush } from '../../src/generated/types.js';
import { RawClient, startTestServer } from '../helpers/server.js';

/** README.md, "Behind a NAT": bytes the server sends per CALLBACK byte, at worst. */
const STATED_AMPLIFICATION = 2.9;
const NONCE = '5d41402abc4b2a76b9719d911017c592';

async function twoPeers(t: import('node:test').TestContext, options = {}) {
  const server = await startTestServer(t, options);
  const holder = await RawClient.open(server.target, t);
  const requester = await RawClient.open(server.target, t);
  // The holder declares a LAN address: it is behind a NAT, seen at its socket's address.
  const held = await holder.request({ type: 'REGISTER', rq: 1, name: 'alice', ip: '192.168.1.10', udpPort: 5001, tcpPort: 6001 });
  assert.equal(held.type, 'REGISTERED');
  const asked = await requester.request({ type: 'REGISTER', rq: 1, name: 'bob', ip: requester.address.ip, udpPort: requester.address.port, tcpPort: 6002 });
  return { server, holder, requester, requesterToken: (asked as { token: string }).token };
}

test('CALLBACK pushes CONNECT-BACK to the holder\'s observed address, naming the requester by its source', async (t) => {
  const { holder, requester } = await twoPeers(t);
  const callback = { type: 'CALLBACK', rq: 7, name: 'alice', tcpPort: 7001, nonce: NONCE };
  const { reply, bytes: replyBytes } = await requester.exchange(callback);
  assert.deepEqual(reply, { type: 'CALLBACK-SENT', rq: 7, name: 'alice' });
  const pushed = await holder.waitFor((r) => r.reply?.type === 'CONNECT-BACK', 2000);
  assert.ok(pushed, 'the holder got CONNECT-BACK');
  const push = pushed.reply as ConnectBackPush;
  assert.deepEqual({ ...push, rq: 0 }, { type: 'CONNECT-BACK', rq: 0, from: 'bob', ip: requester.address.ip, tcpPort: 7001, nonce: NONCE });

  const ratio = (pushed.bytes.length + replyBytes.length) / Buffer.byteLength(JSON.stringify(callback));
  assert.ok(ratio <= STATED_AMPLIFICATION, `amplification ${ratio.toFixed(2)} is over the stated ${STATED_AMPLIFICATION}`);
});

test('the stated amplification factor holds for the worst CALLBACK the schema allows, punch or not', () => {
  const bytes = (o: object) => Buffer.byteLength(JSON.stringify(o));
  const longestIp = 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255';
  const smallest = { type: 'CALLBACK', rq: 0, name: 'a', tcpPort: 1, nonce: 'a'.repeat(32) };
  const largestPush = { type: 'CONNECT-BACK', rq: 2 ** 31 - 1, from: 'b'.repeat(32), ip: longestIp, tcpPort: 65535, nonce: 'a'.repeat(32) };
  const reply = { type: 'CALLBACK-SENT', rq: 0, name: 'a' };
  const plain = (bytes(largestPush) + bytes(reply)) / bytes(smallest);
  // A punch's reply also names where the holder is seen.
  const punchRequest = { ...smallest, punch: true };
  const punchReply = { ...reply, ip: longestIp };
  const punch = (bytes({ ...largestPush, punch: true }) + bytes(punchReply)) / bytes(punchRequest);
  const worst = Math.max(plain, punch);
  assert.ok(worst <= STATED_AMPLIFICATION, `worst case ${worst.toFixed(2)}`);
  assert.ok(worst > STATED_AMPLIFICATION - 0.1, `the README's figure is tight (worst case ${worst.toFixed(2)})`);
  // What goes back to the source (perhaps a spoofed victim) is never larger than what came from it.
  assert.ok(bytes(reply) < bytes(smallest) && bytes(punchReply) < bytes(punchRequest));
});

test('a punch: CONNECT-BACK tells the holder to punch, and CALLBACK-SENT says where the holder is seen', async (t) => {
  const server = await startTestServer(t);
  const holder = await RawClient.open(server.target, t);
  const requester = await RawClient.open(server.target, t);
  // Behind a NAT that keeps source ports: another IP, the same UDP port.
  await holder.request({ type: 'REGISTER', rq: 1, name: 'alice', ip: '192.168.1.10', udpPort: holder.address.port, tcpPort: 6001 });
  const { token } = (await requester.request({ type: 'REGISTER', rq: 1, name: 'bob', ip: '10.0.0.9', udpPort: requester.address.port, tcpPort: 6002 })) as { token: string };
  const reply = await requester.request({ type: 'CALLBACK', rq: 8, name: 'alice', tcpPort: 51234, nonce: NONCE, punch: true, token });
  assert.deepEqual(reply, { type: 'CALLBACK-SENT', rq: 8, name: 'alice', ip: holder.address.ip });
  const pushed = await holder.waitFor((r) => r.reply?.type === 'CONNECT-BACK', 2000);
  assert.deepEqual({ ...(pushed!.reply as ConnectBackPush), rq: 0 }, { type: 'CONNECT-BACK', rq: 0, from: 'bob', ip: requester.address.ip, tcpPort: 51234, nonce: NONCE, punch: true });
});

test('no punch through a NAT seen to rewrite source ports: PUNCH_UNLIKELY names whose, and nothing is pushed', async (t) => {
  // twoPeers' holder registered UDP 5001 but is seen at its socket's port: its NAT rewrites ports.
  const { holder, requester } = await twoPeers(t);
  const reply = await requester.request({ type: 'CALLBACK', rq: 9, name: 'alice', tcpPort: 51234, nonce: NONCE, punch: true });
  assert.equal(reply.type, 'CALLBACK-DENIED');
  assert.match((reply as { reason: string }).reason, new RegExp(`^cannot punch through to alice: alice's NAT rewrites source ports \\(UDP 5001 is seen as ${holder.address.port}\\).*use a relay$`));
  assert.equal(await holder.waitFor((r) => r.reply?.type === 'CONNECT-BACK', 300), undefined);
});

test('no CONNECT-BACK for an unregistered requester or holder', async (t) => {
  const { server, holder, requester } = await twoPeers(t);
  const stranger = await RawClient.open(server.target, t);
  const refused = await stranger.request({ type: 'CALLBACK', rq: 1, name: 'alice', tcpPort: 7001, nonce: NONCE });
  assert.equal(refused.type, 'CALLBACK-DENIED');
  assert.match((refused as { reason: string }).reason, /register first/);
  const nobody = await requester.request({ type: 'CALLBACK', rq: 2, name: 'carol', tcpPort: 7001, nonce: NONCE });
  assert.deepEqual(nobody, { type: 'CALLBACK-DENIED', rq: 2, reason: 'peer "carol" is not registered' });
  assert.equal(await holder.waitFor((r) => r.reply?.type === 'CONNECT-BACK', 300), undefined);
});

test('each requester IP gets a burst, then is refused until its budget refills', async (t) => {
  const { holder, requester } = await twoPeers(t, { callbackRate: { perSecond: 0.001, burst: 3 } });
  const replies = [];
  for (let rq = 1; rq <= 5; rq++) replies.push((await requester.request({ type: 'CALLBACK', rq, name: 'alice', tcpPort: 7001, nonce: NONCE })).type);
  assert.deepEqual(replies, ['CALLBACK-SENT', 'CALLBACK-SENT', 'CALLBACK-SENT', 'CALLBACK-DENIED', 'CALLBACK-DENIED']);
  await holder.waitFor((_, i) => i >= 3, 1000);
  assert.equal(holder.received().filter((r) => r.reply?.type === 'CONNECT-BACK').length, 3);
});
