// The protocol edge encodes every message as plain JSON (the server's pages have their own encoder,
// tested in test/server/page-encode.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDatagram } from '../../src/protocol/index.js';

const stringify = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

test('requests and other replies are plain JSON', () => {
  for (const message of [
    { type: 'SEARCH-FILE', rq: 1, file: 'a "quoted" name' },
    { type: 'RETRIEVE-INFOT', rq: 2, name: 'alice' },
    { type: 'ERROR', rq: null, reason: 'type is required' },
  ] as const) {
    assert.deepEqual(encodeDatagram(message), stringify(message));
  }
});
