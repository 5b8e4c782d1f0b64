// Issue 14, the peer's side of how it is seen: REGISTERED tells it whether it is behind a NAT, and a
// peer that is sends WHO-AM-I with its token on the NAT keepalive period, to every server of its
// cluster unless its NAT maps each to another port; a peer that is not stays quiet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import type { MessageSeen } from '../../src/client/index.js';
import { startTestServer } from '../helpers/server.js';
import { startPeer } from '../helpers/testnet.js';

const QUICK_NAT_KEEPALIVE_MS = 40;

/** The WHO-AM-I requests the peer sends, and the YOU-ARE replies it gets. */
function whoAmITraffic(peer: import('../../src/peer/index.js').Peer): { sent: number; answered: number } {
  const seen = { sent: 0, answered: 0 };
  peer.on('message', (m: MessageSeen) => {
    if (m.direction === 'sent' && m.message.type === 'WHO-AM-I') seen.sent++;
    if (m.direction === 'received' && m.message.type === 'YOU-ARE') seen.answered++;
  });
  return seen;
}

test('a peer whose declared address is not where its datagrams come from knows it, and keeps its mapping open', async (t) => {
  const server = await startTestServer(t);
  // Declares a documentation address; its datagrams come from 127.0.0.1, as through a NAT.
  const peer = await startPeer({ server: server.target, name: 'behind', host: '192.0.2.5', natKeepaliveMs: QUICK_NAT_KEEPALIVE_MS });
  t.after(() => peer.stop());
  const traffic = whoAmITraffic(peer);
  await peer.register();
  assert.equal(peer.seenAs?.behindNat, true);
  assert.equal(peer.seenAs?.observedIp, '127.0.0.1');
  const deadline = Date.now() + 5000;
  while (traffic.answered < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, QUICK_NAT_KEEPALIVE_MS));
  assert.ok(traffic.answered >= 3, `3 WHO-AM-I answered, got ${JSON.stringify(traffic)}`);
});

test('a peer seen where it registered sends no NAT keepalive', async (t) => {
  const server = await startTestServer(t);
  const peer = await startPeer({ server: server.target, name: 'direct', natKeepaliveMs: QUICK_NAT_KEEPALIVE_MS });
  t.after(() => peer.stop());
  const traffic = whoAmITraffic(peer);
  await peer.register();
  assert.equal(peer.seenAs?.behindNat, false);
  await new Promise((resolve) => setTimeout(resolve, QUICK_NAT_KEEPALIVE_MS * 5));
  assert.equal(traffic.sent, 0);
});

/**
 * Another server of the cluster, as far as a peer's keepalive goes: answers each WHO-AM-I with how
 * it sees the sender, its port shifted by `portShift` (a NAT that maps each destination to another
 * port), and counts the WHO-AM-Is that carry a token.
 */
async function otherServer(t: import('node:test').TestContext, portShift: number): Promise<{ address: { host: string; port: number }; whoAmIs: () => number }> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  t.after(() => socket.close());
  let whoAmIs = 0;
  socket.on('message', (bytes, from) => {
    const request = JSON.parse(bytes.toString()) as { type: string; rq: number; token?: string };
    if (request.type !== 'WHO-AM-I') return;
    if (request.token) whoAmIs++;
    const youAre = { type: 'YOU-ARE', rq: request.rq, name: 'behind', ip: '192.0.2.5', udpPort: from.port, observedIp: from.address, observedUdpPort: from.port + portShift, behindNat: true };
    socket.send(JSON.stringify(youAre), from.port, from.address);
  });
  return { address: { host: '127.0.0.1', port: socket.address().port }, whoAmIs: () => whoAmIs };
}

async function ticks(count: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, QUICK_NAT_KEEPALIVE_MS * count));
}

test('behind a NAT with a cluster\'s several servers: every server gets the keepalive, so any of them can push through', async (t) => {
  const server = await startTestServer(t);
  const other = await otherServer(t, 0);
  const peer = await startPeer({ server: [server.target, other.address], name: 'behind', host: '192.0.2.5', natKeepaliveMs: QUICK_NAT_KEEPALIVE_MS });
  t.after(() => peer.stop());
  await peer.register();
  const deadline = Date.now() + 5000;
  while (other.whoAmIs() < 3 && Date.now() < deadline) await ticks(1);
  assert.ok(other.whoAmIs() >= 3, `the other server got ${other.whoAmIs()} WHO-AM-I with the token`);
});

test('a NAT that maps each server to another port: keepalives go to the current server only', async (t) => {
  const server = await startTestServer(t);
  const other = await otherServer(t, 1);
  const peer = await startPeer({ server: [server.target, other.address], name: 'behind', host: '192.0.2.5', natKeepaliveMs: QUICK_NAT_KEEPALIVE_MS });
  t.after(() => peer.stop());
  const traffic = whoAmITraffic(peer);
  await peer.register();
  const deadline = Date.now() + 5000;
  while (other.whoAmIs() < 1 && Date.now() < deadline) await ticks(1);
  const answeredThen = traffic.answered;
  while (traffic.answered < answeredThen + 3 && Date.now() < deadline) await ticks(1);
  assert.ok(traffic.answered >= answeredThen + 3, 'the current server still gets the keepalive');
  assert.equal(other.whoAmIs(), 1, 'the other server was asked once, and its different mapping ended it');
});
