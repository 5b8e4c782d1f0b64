// The arithmetic sizes paging uses must equal the bytes JSON.stringify produces, for any input the
// schemas allow (escapes, multi-byte characters, astral characters, missing optional fields).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as sizes from '../../src/server/pages/sizes.js';

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));
const fileName = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', 'é', '😀', '\u2028'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 255 });
const entry = fc.record(
  { name: fileName, size: fc.maxSafeNat(), sha256: fc.stringMatching(/^[0-9a-f]{64}$/) },
  { requiredKeys: ['name'] },
);
const peerName = fc.stringMatching(/^[A-Za-z0-9._-]{1,32}$/);
const ip = fc.oneof(fc.ipV4(), fc.ipV6());
const port = fc.integer({ min: 1, max: 65535 });
const rq = fc.integer({ min: 0, max: 2 ** 31 - 1 });

test('computed sizes equal the encoded sizes', () => {
  fc.assert(
    fc.property(entry, peerName, ip, port, rq, (e, name, addr, tcpPort, n) => {
      assert.equal(sizes.listingBytes(name, addr, tcpPort), bytes({ name, ip: addr, tcpPort, files: [] }));
      assert.equal(sizes.retrieveBytes(n), bytes({ type: 'RETRIEVE', rq: n, peers: [] }));
      assert.equal(sizes.infotBytes(n, name, addr, tcpPort), bytes({ type: 'RETRIEVE-INFOT', rq: n, name, ip: addr, tcpPort, files: [] }));
      assert.equal(sizes.searchBytes(n, e.name), bytes({ type: 'SEARCH-FILE', rq: n, file: e.name, peers: [] }));
      assert.equal(sizes.wordsBytes(n), bytes({ type: 'WORDS-FOUND', rq: n, files: [] }));
    }),
    { seed: 366, numRuns: 2000 },
  );
});
