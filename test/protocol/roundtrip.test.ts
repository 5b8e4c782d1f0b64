// Encode/decode round-trip for every message type: the spec's examples and generated valid messages
// go through encodeDatagram/encodeLine and come back equal from the decoder of their direction.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineSplitter, ProtocolError, encodeDatagram, encodeLine } from '../../src/protocol/index.js';
import { DIRECTIONS, check, directionOf, nfcFileNames, typedMessages, validMessages, type SpecMessage } from '../spec/spec-kit.js';

/** Encodes with the edge's encoder and decodes with the direction's decoder (lines through a LineSplitter). */
function roundTrip(m: SpecMessage, message: Record<string, unknown>): unknown {
  const direction = DIRECTIONS[directionOf(m)];
  if (m.transport === 'udp') {
    const bytes = encodeDatagram(message as never);
    assert.notEqual(bytes.at(-1), 0x0a, 'a datagram needs no trailing newline');
    // Lists in generated messages may outgrow one datagram; size limits have their own tests.
    return direction.decode(bytes, Number.MAX_SAFE_INTEGER);
  }
  const line = encodeLine(message as never);
  assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, 'exactly one newline, at the end');
  const lines = new LineSplitter().push(Buffer.from(line));
  assert.equal(lines.length, 1);
  return direction.decode(lines[0]!);
}

/** What the decoder hands back: the message itself, file names NFC-normalised for requests. */
const expected = (m: SpecMessage, message: Record<string, unknown>) =>
  (DIRECTIONS[directionOf(m)].isRequest ? nfcFileNames(message) : message);

describe('round-trip of every message type', () => {
  for (const m of typedMessages()) {
    test(`${m.key} (${m.type}, ${DIRECTIONS[directionOf(m)].label})`, () => {
      for (const { payload } of m.examples) assert.deepEqual(roundTrip(m, structuredClone(payload)), payload);
      check(fc.property(validMessages(m), (message) => {
        const want = expected(m, message);
        let got: unknown;
        try {
          got = roundTrip(m, message);
        } catch (error) {
          // NFC can lengthen a name past 255 code points (e.g. U+0958 → U+0915 U+093C): then INVALID is right.
          if (error instanceof ProtocolError && error.code === 'INVALID' && want !== message) return;
          throw error;
        }
        assert.deepEqual(got, want);
      }), 150);
    });
  }

  test('a request type shared with a reply (RETRIEVE-INFOT, SEARCH-FILE) decodes only in its own direction', () => {
    const shared = typedMessages().filter((m) => typedMessages().some((o) => o !== m && o.type === m.type));
    assert.ok(shared.length >= 4, 'RETRIEVE-INFOT and SEARCH-FILE each exist as request and reply');
    for (const m of shared) {
      const other = m.direction === 'request' ? DIRECTIONS.udpReply : DIRECTIONS.udpRequest;
      for (const { payload } of m.examples) {
        assert.throws(() => other.decode(encodeDatagram(payload), Number.MAX_SAFE_INTEGER), (e) => e instanceof ProtocolError && e.code === 'INVALID');
      }
    }
  });

  test('NFD file names come back NFC from request decoders, untouched from reply decoders', () => {
    const nfd = 'Cafe\u0301 A\u030angstro\u0308m.txt';
    const nfc = nfd.normalize('NFC');
    assert.notEqual(nfd, nfc);
    const search = DIRECTIONS.udpRequest.decode(encodeDatagram({ type: 'SEARCH-FILE', rq: 1, file: nfd }));
    assert.deepEqual(search, { type: 'SEARCH-FILE', rq: 1, file: nfc });
    const publish = DIRECTIONS.udpRequest.decode(encodeDatagram({ type: 'PUBLISH', rq: 2, name: 'a', files: [nfd, { name: nfd, size: 1 }] }));
    assert.deepEqual(publish, { type: 'PUBLISH', rq: 2, name: 'a', files: [nfc, { name: nfc, size: 1 }] });
    const download = DIRECTIONS.tcpRequest.decode(Buffer.from(JSON.stringify({ type: 'DOWNLOAD', rq: 3, file: nfd })));
    assert.deepEqual(download, { type: 'DOWNLOAD', rq: 3, file: nfc });
    const reply = DIRECTIONS.udpReply.decode(encodeDatagram({ type: 'SEARCH-FILE', rq: 1, file: nfd, peers: [] }));
    assert.deepEqual(reply, { type: 'SEARCH-FILE', rq: 1, file: nfd, peers: [] });
  });
});
