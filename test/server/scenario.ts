// One scenario, run through any way of sending a request: straight into the handlers (no socket)
// and over real UDP on 127.0.0.1 and ::1. Both must give the same answers.
import assert from 'node:assert/strict';
import type { UdpReply } from '../../src/generated/catalogue.js';

export type Send = (request: { rq: number; [field: string]: unknown }) => Promise<UdpReply>;

/** Registers alice at `contact`, publishes, searches, lists, updates, removes and leaves. */
export async function basicScenario(send: Send, contact: { ip: string; port: number }): Promise<void> {
  const at = { ip: contact.ip, udpPort: contact.port };
  const registered = await send({ type: 'REGISTER', rq: 1, name: 'alice', ...at, tcpPort: 6001 });
  assert.equal(registered.type, 'REGISTERED');
  const token = (registered as { token: string }).token;
  assert.deepEqual(await send({ type: 'PUBLISH', rq: 2, name: 'alice', files: ['b.txt', { name: 'cafe\u0301', size: 7 }] }), { type: 'PUBLISHED', rq: 2 });
  assert.deepEqual(await send({ type: 'SEARCH-FILE', rq: 3, file: 'caf\u00e9' }), {
    type: 'SEARCH-FILE', rq: 3, file: 'caf\u00e9', peers: [{ name: 'alice', ip: contact.ip, tcpPort: 6001, size: 7 }],
  });
  assert.deepEqual(await send({ type: 'RETRIEVE-ALL', rq: 4 }), {
    type: 'RETRIEVE', rq: 4, peers: [{ name: 'alice', ip: contact.ip, tcpPort: 6001, files: [{ name: 'b.txt' }, { name: 'caf\u00e9', size: 7 }] }],
  });
  assert.deepEqual(await send({ type: 'UPDATE-CONTACT', rq: 5, name: 'alice', ip: '192.0.2.9', udpPort: 5009, tcpPort: 6009, token }), {
    type: 'UPDATE-CONFIRMED', rq: 5, name: 'alice', ip: '192.0.2.9', udpPort: 5009, tcpPort: 6009,
  });
  // The contact moved away from this socket: without the token, this address may no longer change alice.
  const refused = await send({ type: 'REMOVE', rq: 6, name: 'alice', files: ['b.txt'] });
  assert.equal(refused.type, 'REMOVE-DENIED');
  assert.deepEqual(await send({ type: 'REMOVE', rq: 7, name: 'alice', files: ['b.txt'], token }), { type: 'REMOVED', rq: 7 });
  assert.deepEqual(await send({ type: 'RETRIEVE-INFOT', rq: 8, name: 'alice', token }), {
    // Registered at 192.0.2.9 but sending from elsewhere: listed as behind a NAT (issue 14).
    type: 'RETRIEVE-INFOT', rq: 8, name: 'alice', ip: '192.0.2.9', tcpPort: 6009, behindNat: true, files: [{ name: 'caf\u00e9', size: 7 }],
  });
  assert.deepEqual(await send({ type: 'DE-REGISTER', rq: 9, name: 'alice', token }), { type: 'DE-REGISTERED', rq: 9 });
  const gone = await send({ type: 'SEARCH-FILE', rq: 10, file: 'caf\u00e9', token });
  assert.equal(gone.type, 'SEARCH-ERROR', 'the token died with the registration');
}
