// The server's page encoder assembles RETRIEVE, RETRIEVE-INFOT, SEARCH-FILE and WORDS-FOUND from the kept JSON of
// their entries: whatever the names hold (escapes, multi-byte and astral characters, bidi marks) and
// however often an entry is reused, the bytes are JSON.stringify's, and they pass the reply schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateUdpReply } from '../../src/generated/catalogue.js';
import { encodePage, listedPartBytes } from '../../src/server/pages/encode.js';

const stringify = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
/** Names the schema allows: quotes, multi-byte and astral characters, line separators, bidi marks. */
const fileName = fc
  .string({ unit: fc.oneof(fc.constantFrom('"', 'é', '😀', '\u2028', '\u202e'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 40 })
  .filter((name) => /^(?!\.\.?$)[^/\\\u0000-\u001F\u007F-\u009F]+$/.test(name));
const entry = fc.record({ name: fileName, size: fc.maxSafeNat(), sha256: fc.stringMatching(/^[0-9a-f]{64}$/) }, { requiredKeys: ['name'] });
const peerName = fc.stringMatching(/^[A-Za-z0-9._-]{1,32}$/);
const ip = fc.oneof(fc.ipV4(), fc.ipV6());
const port = fc.integer({ min: 1, max: 65535 });
const rq = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const next = fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/), { nil: undefined });
const withNext = <T extends object>(reply: T, cursor: string | undefined) => (cursor === undefined ? reply : { ...reply, next: cursor });

test('SEARCH-FILE, RETRIEVE-INFOT, RETRIEVE and WORDS-FOUND encode to exactly what JSON.stringify gives', () => {
  const holder = fc.record({ name: peerName, ip, tcpPort: port, size: fc.maxSafeNat(), sha256: fc.stringMatching(/^[0-9a-f]{64}$/) }, { requiredKeys: ['name', 'ip', 'tcpPort'] });
  const search = fc.record({ rq, file: fileName, peers: fc.array(holder, { maxLength: 4 }), next }).map(({ next: cursor, ...r }) => withNext({ type: 'SEARCH-FILE' as const, ...r }, cursor));
  const infot = fc
    .record({ rq, name: peerName, ip, tcpPort: port, files: fc.array(entry, { maxLength: 4 }), next })
    .map(({ next: cursor, ...r }) => withNext({ type: 'RETRIEVE-INFOT' as const, ...r }, cursor));
  const listing = fc.record({ name: peerName, ip, tcpPort: port, files: fc.array(entry, { maxLength: 3 }) });
  const retrieve = fc.record({ rq, peers: fc.array(listing, { maxLength: 3 }), next }).map(({ next: cursor, ...r }) => withNext({ type: 'RETRIEVE' as const, ...r }, cursor));
  const match = fc.record({ name: fileName, holders: fc.integer({ min: 1, max: 100_000 }), size: fc.maxSafeNat(), sha256: fc.stringMatching(/^[0-9a-f]{64}$/) }, { requiredKeys: ['name', 'holders'] });
  const words = fc.record({ rq, files: fc.array(match, { maxLength: 4 }), next }).map(({ next: cursor, ...r }) => withNext({ type: 'WORDS-FOUND' as const, ...r }, cursor));
  fc.assert(
    fc.property(fc.oneof(search, infot, retrieve, words), (reply) => {
      const bytes = encodePage(reply);
      assert.deepEqual(bytes, stringify(reply));
      assert.deepEqual(encodePage(reply), bytes, 'the second time, from kept JSON');
      assert.ok(validateUdpReply[reply.type](JSON.parse(bytes.toString())));
    }),
    { seed: 41, numRuns: 1000 },
  );
});

test('a listed part is measured as its JSON, and the same entry in many replies encodes alike', () => {
  fc.assert(
    fc.property(entry, rq, rq, (e, a, b) => {
      assert.equal(listedPartBytes(e), Buffer.byteLength(JSON.stringify(e)));
      const first = { type: 'RETRIEVE-INFOT' as const, rq: a, name: 'p', ip: '192.0.2.1', tcpPort: 6000, files: [e, e] };
      const second = { ...first, rq: b, files: [e] };
      assert.deepEqual(encodePage(first), stringify(first));
      assert.deepEqual(encodePage(second), stringify(second));
    }),
    { seed: 42, numRuns: 500 },
  );
});
