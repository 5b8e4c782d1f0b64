// Found by the tiny-budget lossy scenario: a peer whose DE-REGISTER timed out keeps its token; if the
// DE-REGISTER had in fact taken effect and its next REGISTER also timed out after taking effect, the
// name now has a token the peer never saw, and every REGISTER it sends (with the old token, from the
// registered IP and UDP port) is refused: it is locked out of its own name. The brief: "A REGISTER
// for a name whose registration belongs to the same client (same token, or same IP and UDP port)
// succeeds and refreshes it." The server used to compare only the token when one was given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestServer, uniqueName } from '../helpers/server.js';

type Request = { rq: number; [field: string]: unknown };

test('REGISTER with a stale token from the registered IP and UDP port refreshes the registration (brief: same token, or same IP and UDP port)', async (t) => {
  const server = await startTestServer(t);
  const peer = await RawClient.open(server.target, t);
  const ask = (message: Request) => peer.request(message);
  const name = uniqueName('stale');
  const contact = { name, ip: '127.0.0.1', udpPort: peer.address.port, tcpPort: 7000 };
  const first = await ask({ type: 'REGISTER', rq: 1, ...contact });
  assert.equal(first.type, 'REGISTERED');
  const staleToken = (first as { token: string }).token;
  // The DE-REGISTER and the following REGISTER take effect, but (on a lossy network) the peer never hears back.
  assert.equal((await ask({ type: 'DE-REGISTER', rq: 2, name, token: staleToken })).type, 'DE-REGISTERED');
  assert.equal((await ask({ type: 'REGISTER', rq: 3, ...contact, token: staleToken })).type, 'REGISTERED');
  // The peer tries again, still holding the only token it knows, from the address the name is registered at.
  const again = await ask({ type: 'REGISTER', rq: 4, ...contact, token: staleToken });
  assert.equal(again.type, 'REGISTERED', `refused: ${(again as { reason?: string }).reason}`);
});
