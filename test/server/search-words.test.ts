// SEARCH-WORDS through the handlers' one entry (the same decode edge as the socket): pages within the
// datagram limit that together list each match once, best first; at most MAX_MATCHES; holders, size
// and hash per file; refusals with their reasons; and an index that follows PUBLISH, REMOVE and
// DE-REGISTER (a kept page is never served after a change).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { validateUdpReply, type UdpReply, type UdpRequest } from '../../src/generated/catalogue.js';
import type { WordMatch } from '../../src/generated/types.js';
import { decodeUdpRequest } from '../../src/protocol/index.js';
import { MAX_MATCHES, Registry, type StoredPeer } from '../../src/registry/index.js';
import { Counters } from '../../src/server/counters.js';
import { Answers } from '../../src/server/index.js';
import { KeptPages } from '../../src/server/replies/kept-pages.js';
import { silentLogger } from '../../src/log/index.js';
import { openStore } from '../../src/stores/index.js';

const FROM = { ip: '192.0.2.1', port: 5001 };
const SHA = 'a'.repeat(64);
let rq = 1;

async function setUp(maxDatagram = 1200) {
  const registry = await Registry.open(await openStore<StoredPeer>(`memory://words-${randomUUID()}`, 'peers'));
  const answers = new Answers({ registry, maxDatagram, keptPages: new KeptPages(registry), counters: new Counters(), log: silentLogger });
  const send = async (request: Record<string, unknown>, from = FROM): Promise<UdpReply> => {
    const bytes = Buffer.from(JSON.stringify({ rq: rq++, ...request }));
    const decoded: UdpRequest = decodeUdpRequest(bytes);
    const reply = JSON.parse((await answers.answer(decoded, from, bytes)).toString()) as UdpReply;
    assert.ok(validateUdpReply[reply.type](reply), `${reply.type} breaks its schema: ${JSON.stringify(reply)}`);
    assert.ok(Buffer.byteLength(JSON.stringify(reply)) <= maxDatagram, 'within the datagram limit');
    return reply;
  };
  const register = async (name: string, port: number) => {
    const reply = await send({ type: 'REGISTER', name, ip: FROM.ip, udpPort: port, tcpPort: 6000 }, { ip: FROM.ip, port });
    return (reply as { token: string }).token;
  };
  /** Every page of a word search, and how many pages it took. */
  const search = async (words: string, token: string) => {
    const files: WordMatch[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const reply = await send({ type: 'SEARCH-WORDS', words, token, ...(cursor ? { cursor } : {}) });
      assert.equal(reply.type, 'WORDS-FOUND', JSON.stringify(reply));
      if (reply.type !== 'WORDS-FOUND') break;
      files.push(...reply.files);
      cursor = reply.next;
      pages++;
    } while (cursor);
    return { files, pages };
  };
  return { registry, send, register, search };
}

test('every match once, best first, over pages within a small datagram limit', async () => {
  const { send, register, search } = await setUp(600);
  const token = await register('alice', 5001);
  const names = [];
  for (let words = 1; words <= 6; words++) {
    for (let i = 0; i < 12; i++) names.push(['holiday', ...Array.from({ length: words - 1 }, (_, w) => `w${w}x${i}`)].join(' ') + (words === 1 ? ` ${'é'.repeat(i + 1)}` : ''));
  }
  for (let i = 0; i < names.length; i += 3) {
    assert.equal((await send({ type: 'PUBLISH', name: 'alice', token, files: names.slice(i, i + 3).map((name) => ({ name, size: 10, sha256: SHA })) })).type, 'PUBLISHED');
  }
  const { files, pages } = await search('HOLIDAY', token);
  assert.ok(pages > 3, `paged: ${pages} pages`);
  const listed = files.map((f) => f.name);
  assert.equal(new Set(listed).size, listed.length, 'no name twice');
  assert.deepEqual([...listed].sort(), [...names].sort(), 'every name');
  const counts = listed.map((name) => name.split(/[ ]/).length);
  assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'fewest words first');
  assert.deepEqual(files[0], { name: listed[0], holders: 1, size: 10, sha256: SHA });
});

test(`at most ${MAX_MATCHES} matches in all, the best ones`, async () => {
  const { send, register, search } = await setUp();
  const token = await register('bob', 5002);
  const names = Array.from({ length: MAX_MATCHES + 200 }, (_, i) => (i < 100 ? `song ${i}` : `song extra ${i}`));
  for (let i = 0; i < names.length; i += 50) {
    assert.equal((await send({ type: 'PUBLISH', name: 'bob', token, files: names.slice(i, i + 50) })).type, 'PUBLISHED');
  }
  const { files } = await search('song', token);
  assert.equal(files.length, MAX_MATCHES);
  assert.deepEqual(files.slice(0, 100).map((f) => f.name).sort(), names.slice(0, 100).sort(), 'the two-word names first');
});

test('holders are counted per file; size and hash come from the first holder that published them', async () => {
  const { send, register, search } = await setUp();
  const a = await register('anna', 5003);
  const b = await register('bert', 5004);
  await send({ type: 'PUBLISH', name: 'anna', token: a, files: ['Shared Report.pdf'] });
  await send({ type: 'PUBLISH', name: 'bert', token: b, files: [{ name: 'Shared Report.pdf', size: 99, sha256: SHA }] });
  assert.deepEqual((await search('report', a)).files, [{ name: 'Shared Report.pdf', holders: 2, size: 99, sha256: SHA }]);
});

test('the index follows PUBLISH, REMOVE and DE-REGISTER: a kept page is never served after a change', async () => {
  const { send, register, search } = await setUp();
  const token = await register('cleo', 5005);
  const other = await register('dora', 5006);
  await send({ type: 'PUBLISH', name: 'cleo', token, files: ['Night Train.mp3'] });
  assert.deepEqual((await search('train night', token)).files.map((f) => f.name), ['Night Train.mp3']);
  await send({ type: 'PUBLISH', name: 'dora', token: other, files: ['night_train_live.mp3'] });
  assert.deepEqual((await search('train night', token)).files.map((f) => f.name), ['Night Train.mp3', 'night_train_live.mp3']);
  await send({ type: 'REMOVE', name: 'cleo', token, files: ['Night Train.mp3'] });
  assert.deepEqual((await search('train night', token)).files.map((f) => f.name), ['night_train_live.mp3']);
  await send({ type: 'DE-REGISTER', name: 'dora', token: other });
  assert.deepEqual((await search('train night', token)).files, []);
});

test('refusals: no word, too many words, a bad cursor, an unregistered client', async () => {
  const { send, register } = await setUp();
  const token = await register('erin', 5007);
  const refused = async (request: Record<string, unknown>, pattern: RegExp) => {
    const reply = await send(request);
    assert.equal(reply.type, 'WORDS-ERROR', JSON.stringify(reply));
    assert.match((reply as { reason: string }).reason, pattern);
  };
  await refused({ type: 'SEARCH-WORDS', words: '- . _', token }, /holds no word/);
  await refused({ type: 'SEARCH-WORDS', words: 'a b c d e f g h i', token }, /9 words; search by at most 8/);
  await refused({ type: 'SEARCH-WORDS', words: 'x', cursor: 'QUJD', token }, /cursor must be a `next` value/);
  assert.throws(() => decodeUdpRequest(Buffer.from('{"type":"SEARCH-WORDS","rq":1,"words":""}')), /words must be 1 to 255 characters long, got 0/);
  await refused({ type: 'SEARCH-WORDS', words: 'x', token: 'f'.repeat(32) }, /register first/);
});
