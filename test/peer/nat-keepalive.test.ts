// Issue 14, the peer's side of how it is seen: REGISTERED tells it whether it is behind a NAT, and a
// peer that is sends WHO-AM-I with its token on the NAT keepalive period; a peer that is not stays quiet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
