// 100,000 random and mutated datagrams (fast-check, seeded: a failure names its seed) sent to a live
// server from an unregistered source. Every datagram that is a JSON object gets exactly one valid
// reply, garbage gets none, and afterwards the server answers a valid request with its registry
// unchanged. Set P2FS_FUZZ_SEED to replay a run, P2FS_FUZZ_COUNT to change its size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeUdpRequest, ProtocolError } from '../../src/protocol/index.js';
import { RawClient, startTestServer } from '../helpers/server.js';

const COUNT = Number(process.env.P2FS_FUZZ_COUNT ?? 100_000);
const SEED = Number(process.env.P2FS_FUZZ_SEED ?? 20_261_124);
/** Datagrams sent before waiting for their replies: well inside both sockets' receive buffers. */
const WINDOW = 400;

const NAMES = ['alice', 'bob', 'carol'];
const SHA = 'a591a6d40bf420404a011733cfb7b190d62c65bf0bcf1a7ffa7a02ad1da2e4e0';
const TOKEN = '9f86d081884c7d659a2feaa0c55ad015';

/** One valid request of each type, aimed at the registered names (from the wrong address, no token or a wrong one). */
const TEMPLATES: Array<Record<string, unknown>> = [
  { type: 'REGISTER', rq: 1, name: 'alice', ip: '192.0.2.1', udpPort: 5001, tcpPort: 6001 },
  { type: 'DE-REGISTER', rq: 2, name: 'bob', token: TOKEN },
  { type: 'PUBLISH', rq: 3, name: 'carol', files: ['x.txt', { name: 'y.ogg', size: 1, sha256: SHA }] },
  { type: 'REMOVE', rq: 4, name: 'alice', files: ['a.txt'] },
  { type: 'RETRIEVE-ALL', rq: 5 },
  { type: 'RETRIEVE-INFOT', rq: 6, name: 'bob', cursor: 'SWFiYw' },
  { type: 'SEARCH-FILE', rq: 7, file: 'a.txt', token: TOKEN },
  { type: 'UPDATE-CONTACT', rq: 8, name: 'carol', ip: '::1', udpPort: 1, tcpPort: 2 },
];

const hostile = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom('__proto__', 'constructor', 'prototype', -0, 1e309, 2 ** 53, '', '\u202e', 'e\u0301', '\u0000', '..', '/'),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

/** A valid request with one thing changed: a field removed, replaced, added, or the type swapped. */
const mutatedRequest = fc
  .tuple(fc.constantFrom(...TEMPLATES), fc.nat(), hostile, fc.constantFrom('remove', 'replace', 'add', 'type', 'files'))
  .map(([template, pick, value, how]) => {
    const request: Record<string, unknown> = structuredClone(template);
    const keys = Object.keys(request);
    const key = keys[pick % keys.length]!;
    if (how === 'remove') delete request[key];
    else if (how === 'replace') request[key] = value;
    else if (how === 'add') request[typeof value === 'string' ? value : `extra${pick}`] = value;
    else if (how === 'type') request.type = typeof value === 'string' ? value : TEMPLATES[pick % TEMPLATES.length]!.type;
    else request.files = [value, 'ok.txt'];
    return Buffer.from(JSON.stringify(request));
  });

/** Bytes of a valid request with bytes flipped, cut or inserted. */
const corruptedBytes = fc
  .tuple(fc.constantFrom(...TEMPLATES), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([template, edits, cut]) => {
    const bytes = Buffer.from(JSON.stringify(template));
    for (const [at, byte] of edits) bytes[at % bytes.length] = byte;
    return cut ? bytes.subarray(0, edits[0]![0] % bytes.length) : bytes;
  });

const datagrams = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 1300 }).map((a) => Buffer.from(a)) },
  { weight: 2, arbitrary: fc.json().map((s) => Buffer.from(s)) },
  { weight: 4, arbitrary: mutatedRequest },
  { weight: 2, arbitrary: corruptedBytes },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), hostile, { maxKeys: 6 }).map((o) => Buffer.from(JSON.stringify({ ...o, type: 'PUBLISH', rq: 9 }))) },
);

/** What the server must do with these bytes from an unregistered source: reply once, or not at all. */
function expectsReply(bytes: Buffer): boolean | 'skip' {
  try {
    const request = decodeUdpRequest(bytes);
    // A valid REGISTER of a free name is allowed to change the registry: not this test's subject.
    return request.type === 'REGISTER' && !NAMES.includes(request.name) ? 'skip' : true;
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return !error.drop;
  }
}

test(`${COUNT} random and mutated datagrams: one valid reply per JSON object, none for garbage, registry unchanged (seed ${SEED})`, async (t) => {
  const server = await startTestServer(t);
  const owner = await RawClient.open(server.target, t);
  for (const [i, name] of NAMES.entries()) {
    const reply = await owner.request({ type: 'REGISTER', rq: i, name, ip: owner.address.ip, udpPort: owner.address.port, tcpPort: 6000 });
    assert.equal(reply.type, 'REGISTERED');
    assert.equal((await owner.request({ type: 'PUBLISH', rq: 10 + i, name, files: ['a.txt', { name: 'b.txt', size: 2, sha256: SHA }] })).type, 'PUBLISHED');
  }
  const before = server.registry.snapshot();
  const fuzzer = await RawClient.open(server.target, t);
  fuzzer.socket.setRecvBufferSize(4 * 1024 * 1024);

  const samples = fc.sample(datagrams, { seed: SEED, numRuns: COUNT });
  let expected = 0;
  let skipped = 0;
  for (let start = 0; start < samples.length; start += WINDOW) {
    for (const bytes of samples.slice(start, start + WINDOW)) {
      const verdict = expectsReply(bytes);
      if (verdict === 'skip') {
        skipped++;
        continue;
      }
      if (verdict) expected++;
      fuzzer.send(bytes);
    }
    const arrived = await fuzzer.waitFor((_, i) => i >= expected - 1, 20_000);
    assert.ok(expected === 0 || arrived, `seed ${SEED}: ${fuzzer.received().length} replies after datagram ${start + WINDOW}, expected ${expected}`);
  }
  // A last valid request: once its reply is in, any reply to the garbage before it is in too.
  const sync = await fuzzer.request({ type: 'HELLO', rq: 424242 });
  assert.equal(sync.type, 'ERROR');
  const replies = fuzzer.received();
  assert.equal(replies.length, expected + 1, `seed ${SEED}: replies to garbage, or missing replies`);
  const invalid = replies.filter((r) => !r.reply);
  assert.deepEqual(invalid.slice(0, 3).map((r) => `${r.invalid}: ${r.bytes.toString().slice(0, 200)}`), [], `seed ${SEED}: replies that break their schema`);
  assert.ok(replies.every((r) => r.bytes.length <= 1200), 'no reply over the datagram limit');
  assert.deepEqual(server.registry.snapshot(), before, `seed ${SEED}: the registry changed`);
  assert.ok(skipped < COUNT / 100, `${skipped} valid REGISTERs skipped`);
  const stats = server.stats();
  t.diagnostic(`replies ${expected}, dropped ${stats.dropped}, skipped ${skipped}, ERROR ${stats.errors}, refusals ${stats.refused}`);
  // And it still serves.
  const search = await owner.request({ type: 'SEARCH-FILE', rq: 99, file: 'a.txt' });
  assert.deepEqual(search.type === 'SEARCH-FILE' && search.peers.map((p) => p.name), NAMES);
});
