// What the page says: refusals and failures in plain words, never the protocol's (chunk numbers,
// frame or message types), and one size formatter, the command line's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bytes } from '../../src/cli/format.js';
import { plainWords } from '../../src/ui/plain-words.js';
// @ts-expect-error: the page's own module, plain JavaScript without types
import { formatSize } from '../../src/ui/public/size.js';

const PROTOCOL_WORDS = /\bchunks?\b|FILE-END|DOWNLOAD-ERROR|SEARCH-|RETRIEVE|\brq\b|fromChunk|frame/i;

test('a download every holder failed is told holder by holder, without chunk numbers', () => {
  const text = plainWords({
    code: 'ALL_HOLDERS_FAILED',
    message: 'could not download "movie.bin": alice (127.0.0.1:4001): CLOSED_EARLY closed the connection after chunk 277872; bob (127.0.0.1:4002): STALLED sent no frame for 10000 ms after chunk 12',
    file: 'movie.bin',
    attempts: [{ holder: 'alice (127.0.0.1:4001)', code: 'CLOSED_EARLY' }, { holder: 'bob (127.0.0.1:4002)', code: 'STALLED' }, { holder: 'eve (10.0.0.1:1)', code: 'BAD_FRAME' }],
  });
  assert.equal(text, 'Could not download "movie.bin": alice hung up before the end; bob stopped sending; eve sent data this peer could not read. What arrived is kept; try again later.');
  assert.doesNotMatch(text, PROTOCOL_WORDS);
});

test('every code the page may meet reads as a sentence without protocol words', () => {
  const codes = ['TIMEOUT', 'SERVER_SILENT', 'NO_HOLDER', 'NO_HOLDERS', 'DESTINATION_EXISTS', 'PART_IN_USE', 'ABORTED', 'IO', 'NOT_REGISTERED', 'STOPPED', 'CLOSED', 'BIND', 'PROTOCOL'];
  for (const code of codes) {
    const text = plainWords({ code, message: 'after chunk 277872: FILE-END rq 7 DOWNLOAD-ERROR', file: 'a.txt', server: '192.0.2.7:4000' });
    assert.doesNotMatch(text, PROTOCOL_WORDS, `${code}: ${text}`);
    assert.match(text, /^[A-Z"].*[.]$/, `${code} is a sentence: ${text}`);
  }
  assert.equal(plainWords({ code: 'SERVER_SILENT', message: '', server: '192.0.2.7:4000' }), 'The index server (192.0.2.7:4000) does not answer. Check that it is running and reachable, then retry.');
  assert.equal(plainWords({ code: 'IO', message: "ENOSPC: no space left on device, write '/x/y.part'" }), 'The download folder could not be written (the disk is full).');
  assert.equal(plainWords({ code: 'DENIED', message: 'x', reason: 'nobody shares "a"' }), 'nobody shares "a"', "the server's own sentence");
});

test("the page's size formatter is the command line's", () => {
  for (const n of [0, 1, 999, 1000, 1001, 9_999, 10_000, 99_949, 99_950, 999_499, 999_500, 1_000_000, 6_000_000, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    assert.equal(formatSize(n), bytes(n), String(n));
  }
  fc.assert(fc.property(fc.maxSafeNat(), (n) => formatSize(n) === bytes(n)), { seed: 15, numRuns: 2000 });
  assert.equal(formatSize(undefined), bytes(undefined));
});
