// Every request of the brief gets exactly one of its listed replies; refusals name the field and the
// rule and change nothing; garbage gets no reply; names are compared after NFC normalisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { client, expectRefusal, expectType, registeredPeer, rq } from './target.js';
import { uniqueName } from '../helpers/server.js';

const SHA = 'a591a6d40bf420404a011733cfb7b190d62c65bf0bcf1a7ffa7a02ad1da2e4e0';

test('REGISTER answers REGISTERED with a 128-bit hex token; a taken name is REGISTER-DENIED', async (t) => {
  const alice = await registeredPeer(t, 'alice');
  assert.match(alice.token, /^[0-9a-f]{32,}$/);
  const other = await client(t);
  const taken = await other.request({ type: 'REGISTER', rq: rq(), name: alice.name, ip: other.address.ip, udpPort: other.address.port, tcpPort: 1 });
  expectRefusal(taken, 'REGISTER-DENIED', /already registered by another client/);
});

test('REGISTER refreshes the caller\'s own registration: same token, files kept, new contact', async (t) => {
  const alice = await registeredPeer(t, 'alice');
  const { client: c, name } = alice;
  expectType(await c.request({ type: 'PUBLISH', rq: rq(), name, files: ['kept.txt'] }), 'PUBLISHED');
  const again = await c.request({ type: 'REGISTER', rq: rq(), name, ip: c.address.ip, udpPort: c.address.port, tcpPort: 7001 });
  assert.equal(expectType(again, 'REGISTERED').token, alice.token);
  // From elsewhere with the token (a peer that moved).
  const moved = await client(t);
  const byToken = await moved.request({ type: 'REGISTER', rq: rq(), name, ip: moved.address.ip, udpPort: moved.address.port, tcpPort: 7002, token: alice.token });
  assert.equal(expectType(byToken, 'REGISTERED').token, alice.token);
  const info = expectType(await moved.request({ type: 'RETRIEVE-INFOT', rq: rq(), name }), 'RETRIEVE-INFOT');
  assert.equal(info.tcpPort, 7002);
  assert.deepEqual(info.files, [{ name: 'kept.txt' }]);
});

test('REGISTER refusals name the field and the rule', async (t) => {
  const c = await client(t);
  const base = { type: 'REGISTER', name: uniqueName('bad'), ip: c.address.ip, udpPort: c.address.port, tcpPort: 6000 };
  expectRefusal(await c.request({ ...base, rq: rq(), udpPort: 70000 }), 'REGISTER-DENIED', /udpPort must be an integer from 1 to 65535, got 70000/);
  expectRefusal(await c.request({ ...base, rq: rq(), name: 'a b' }), 'REGISTER-DENIED', /name "a b" may only contain letters, digits/);
  expectRefusal(await c.request({ ...base, rq: rq(), ip: 'example.com' }), 'REGISTER-DENIED', /ip "example.com" must be an IPv4 or IPv6 address/);
  expectRefusal(await c.request({ ...base, rq: rq(), ip: '0.0.0.0' }), 'REGISTER-DENIED', /ip "0.0.0.0" is the unspecified address/);
  expectRefusal(await c.request({ ...base, rq: rq(), ip: '::' }), 'REGISTER-DENIED', /unspecified address/);
  expectRefusal(await c.request({ ...base, rq: rq(), extra: 1 }), 'REGISTER-DENIED', /unknown field "extra"/);
  // None of them registered anything.
  const peer = await registeredPeer(t, 'observer');
  expectRefusal(await peer.client.request({ type: 'RETRIEVE-INFOT', rq: rq(), name: base.name }), 'RETRIEVE-ERROR', /is not registered/);
});

test('DE-REGISTER removes the peer and its files; an unregistered name is DE-REGISTERED too', async (t) => {
  const observer = await registeredPeer(t, 'observer');
  const c = await client(t);
  const name = uniqueName('leaver');
  const file = `${uniqueName('f')}.txt`;
  const reg = expectType(await c.request({ type: 'REGISTER', rq: rq(), name, ip: c.address.ip, udpPort: c.address.port, tcpPort: 6000 }), 'REGISTERED');
  expectType(await c.request({ type: 'PUBLISH', rq: rq(), name, files: [file] }), 'PUBLISHED');
  assert.equal(expectType(await observer.client.request({ type: 'SEARCH-FILE', rq: rq(), file }), 'SEARCH-FILE').peers.length, 1);
  expectType(await c.request({ type: 'DE-REGISTER', rq: rq(), name, token: reg.token }), 'DE-REGISTERED');
  expectRefusal(await observer.client.request({ type: 'SEARCH-FILE', rq: rq(), file }), 'SEARCH-ERROR', /^nobody shares/);
  expectType(await c.request({ type: 'DE-REGISTER', rq: rq(), name }), 'DE-REGISTERED');
  expectRefusal(await c.request({ type: 'DE-REGISTER', rq: rq(), name: 'no/slash' }), 'DE-REGISTER-DENIED', /^name "no\/slash" may only contain/);
});

test('PUBLISH adds files (names or entries), replaces a re-published entry, and is all or nothing', async (t) => {
  const { client: c, name } = await registeredPeer(t, 'publisher');
  expectType(await c.request({ type: 'PUBLISH', rq: rq(), name, files: ['b.txt', { name: 'a.ogg', size: 4096, sha256: SHA }] }), 'PUBLISHED');
  expectType(await c.request({ type: 'PUBLISH', rq: rq(), name, files: [{ name: 'b.txt', size: 3 }] }), 'PUBLISHED');
  const ten = Array.from({ length: 10 }, (_, i) => (i === 6 ? 'bad/name' : `batch-${i}.txt`));
  expectRefusal(await c.request({ type: 'PUBLISH', rq: rq(), name, files: ten }), 'PUBLISH-DENIED', /^files\[6\] "bad\/name" must not contain '\/'/);
  const info = expectType(await c.request({ type: 'RETRIEVE-INFOT', rq: rq(), name }), 'RETRIEVE-INFOT');
  assert.deepEqual(info.files, [{ name: 'a.ogg', size: 4096, sha256: SHA }, { name: 'b.txt', size: 3 }]);
  expectRefusal(await c.request({ type: 'PUBLISH', rq: rq(), name, files: [] }), 'PUBLISH-DENIED', /files must hold 1 to 1024 entries, got 0/);
  expectRefusal(await c.request({ type: 'PUBLISH', rq: rq(), name, files: [{ name: 'x', sha256: 'XYZ' }] }), 'PUBLISH-DENIED', /sha256/);
  expectRefusal(await c.request({ type: 'PUBLISH', rq: rq(), name, files: ['..'] }), 'PUBLISH-DENIED', /files\[0\] "\.\."/);
});

test('PUBLISH, REMOVE and UPDATE-CONTACT for an unregistered name say "register first"', async (t) => {
  const c = await client(t);
  const name = uniqueName('ghost');
  expectRefusal(await c.request({ type: 'PUBLISH', rq: rq(), name, files: ['a'] }), 'PUBLISH-DENIED', /^register first: ".+" is not registered/);
  expectRefusal(await c.request({ type: 'REMOVE', rq: rq(), name, files: ['a'] }), 'REMOVE-DENIED', /^register first/);
  const update = await c.request({ type: 'UPDATE-CONTACT', rq: rq(), name, ip: '192.0.2.1', udpPort: 1, tcpPort: 2 });
  expectRefusal(update, 'UPDATE-DENIED', /^register first/);
  assert.equal(expectType(update, 'UPDATE-DENIED').name, name);
});

test('REMOVE stops sharing; names not shared are nothing to do; a bad name refuses the whole request', async (t) => {
  const { client: c, name } = await registeredPeer(t, 'remover');
  expectType(await c.request({ type: 'PUBLISH', rq: rq(), name, files: ['a', 'b', 'c'] }), 'PUBLISHED');
  expectType(await c.request({ type: 'REMOVE', rq: rq(), name, files: ['a', 'never-shared'] }), 'REMOVED');
  expectType(await c.request({ type: 'REMOVE', rq: rq(), name, files: ['never-shared'] }), 'REMOVED');
  expectRefusal(await c.request({ type: 'REMOVE', rq: rq(), name, files: ['b', 'x\u0001y'] }), 'REMOVE-DENIED', /^files\[1\]/);
  const info = expectType(await c.request({ type: 'RETRIEVE-INFOT', rq: rq(), name }), 'RETRIEVE-INFOT');
  assert.deepEqual(info.files.map((f) => f.name), ['b', 'c']);
});

test('UPDATE-CONTACT moves the registration and echoes it; refusals echo the name (null when not a string)', async (t) => {
  const { client: c, name, token } = await registeredPeer(t, 'mover');
  const confirmed = expectType(await c.request({ type: 'UPDATE-CONTACT', rq: rq(), name, ip: '2001:DB8:0:0:0:0:0:7', udpPort: 5001, tcpPort: 6001, token }), 'UPDATE-CONFIRMED');
  assert.deepEqual({ ...confirmed, rq: 0 }, { type: 'UPDATE-CONFIRMED', rq: 0, name, ip: '2001:db8::7', udpPort: 5001, tcpPort: 6001 });
  const info = expectType(await c.request({ type: 'RETRIEVE-INFOT', rq: rq(), name, token }), 'RETRIEVE-INFOT');
  assert.equal(info.ip, '2001:db8::7');
  const badPort = await c.request({ type: 'UPDATE-CONTACT', rq: rq(), name, ip: '192.0.2.1', udpPort: 0, tcpPort: 1, token });
  expectRefusal(badPort, 'UPDATE-DENIED', /udpPort must be an integer from 1 to 65535, got 0/);
  assert.equal(expectType(badPort, 'UPDATE-DENIED').name, name);
  const noName = expectType(await c.request({ type: 'UPDATE-CONTACT', rq: rq(), name: 42, ip: '192.0.2.1', udpPort: 1, tcpPort: 1 }), 'UPDATE-DENIED');
  assert.equal(noName.name, null);
});

test('queries from an unregistered client get their error type: "register first"', async (t) => {
  const stranger = await client(t);
  expectRefusal(await stranger.request({ type: 'RETRIEVE-ALL', rq: rq() }), 'RETRIEVE-ERROR', /^register first: this address has no registration/);
  expectRefusal(await stranger.request({ type: 'RETRIEVE-INFOT', rq: rq(), name: 'anyone' }), 'RETRIEVE-ERROR', /^register first/);
  expectRefusal(await stranger.request({ type: 'SEARCH-FILE', rq: rq(), file: 'x' }), 'SEARCH-ERROR', /^register first/);
  const forged = 'f'.repeat(32);
  expectRefusal(await stranger.request({ type: 'SEARCH-FILE', rq: rq(), file: 'x', token: forged }), 'SEARCH-ERROR', /^register first: token matches no registration/);
});

test('a registered client may query with its token from any address', async (t) => {
  const alice = await registeredPeer(t, 'alice');
  const elsewhere = await client(t);
  expectType(await elsewhere.request({ type: 'RETRIEVE-ALL', rq: rq(), token: alice.token }), 'RETRIEVE');
  const info = expectType(await elsewhere.request({ type: 'RETRIEVE-INFOT', rq: rq(), name: alice.name, token: alice.token }), 'RETRIEVE-INFOT');
  assert.equal(info.tcpPort, 6000);
  expectRefusal(await elsewhere.request({ type: 'RETRIEVE-INFOT', rq: rq(), name: uniqueName('nobody'), token: alice.token }), 'RETRIEVE-ERROR', /peer ".+" is not registered/);
});

test('SEARCH-FILE is exact on the NFC name: é precomposed and decomposed are one name', async (t) => {
  const { client: c, name } = await registeredPeer(t, 'nfc');
  const stem = uniqueName('caf');
  const composed = `${stem}-caf\u00e9.txt`;
  const decomposed = `${stem}-cafe\u0301.txt`;
  expectType(await c.request({ type: 'PUBLISH', rq: rq(), name, files: [decomposed, { name: composed, size: 5 }] }), 'PUBLISHED');
  const info = expectType(await c.request({ type: 'RETRIEVE-INFOT', rq: rq(), name }), 'RETRIEVE-INFOT');
  assert.deepEqual(info.files, [{ name: composed, size: 5 }]);
  for (const spelling of [composed, decomposed]) {
    const found = expectType(await c.request({ type: 'SEARCH-FILE', rq: rq(), file: spelling }), 'SEARCH-FILE');
    assert.equal(found.file, composed);
    assert.deepEqual(found.peers.map((p) => [p.name, p.size]), [[name, 5]]);
  }
  expectRefusal(await c.request({ type: 'SEARCH-FILE', rq: rq(), file: `${stem}-cafe.txt` }), 'SEARCH-ERROR', /^nobody shares/);
  expectType(await c.request({ type: 'REMOVE', rq: rq(), name, files: [decomposed] }), 'REMOVED');
  expectRefusal(await c.request({ type: 'SEARCH-FILE', rq: rq(), file: composed }), 'SEARCH-ERROR', /^nobody shares/);
});

test('SEARCH-FILE for a file nobody shares is SEARCH-ERROR, as the course says, and names the file', async (t) => {
  const { client: c, name } = await registeredPeer(t, 'seeker');
  const file = `${uniqueName('missing')}.txt`;
  const missing = expectRefusal(await c.request({ type: 'SEARCH-FILE', rq: rq(), file }), 'SEARCH-ERROR', /^nobody shares /);
  assert.equal(missing.reason, `nobody shares ${JSON.stringify(file)}`);
  // Once someone shares it, the same question finds them; once they stop, it is SEARCH-ERROR again.
  expectType(await c.request({ type: 'PUBLISH', rq: rq(), name, files: [file] }), 'PUBLISHED');
  assert.deepEqual(expectType(await c.request({ type: 'SEARCH-FILE', rq: rq(), file }), 'SEARCH-FILE').peers.map((p) => p.name), [name]);
  expectType(await c.request({ type: 'REMOVE', rq: rq(), name, files: [file] }), 'REMOVED');
  expectRefusal(await c.request({ type: 'SEARCH-FILE', rq: rq(), file }), 'SEARCH-ERROR', /^nobody shares /);
  // An unregistered client still gets "register first", not an answer about the file.
  const stranger = await client(t);
  expectRefusal(await stranger.request({ type: 'SEARCH-FILE', rq: rq(), file }), 'SEARCH-ERROR', /^register first/);
});

test('SEARCH-WORDS finds names holding every word, ignoring case and accents; refusals are WORDS-ERROR', async (t) => {
  const { client: c, name } = await registeredPeer(t, 'words');
  const tag = name.replace(/[^A-Za-z0-9]/g, '');
  const files = [`Été ${tag} Café.txt`, `${tag}_cafe_menu_2024.pdf`, `${tag} tea.txt`];
  expectType(await c.request({ type: 'PUBLISH', rq: rq(), name, files: [{ name: files[0], size: 5, sha256: SHA }, files[1], files[2]] }), 'PUBLISHED');
  const found = expectType(await c.request({ type: 'SEARCH-WORDS', rq: rq(), words: `CAFE ${tag.toLowerCase()}` }), 'WORDS-FOUND');
  assert.deepEqual(found.files, [{ name: files[0], holders: 1, size: 5, sha256: SHA }, { name: files[1], holders: 1 }], 'fewest words first');
  assert.deepEqual(expectType(await c.request({ type: 'SEARCH-WORDS', rq: rq(), words: `${tag} caf` }), 'WORDS-FOUND').files, [], 'whole words only');
  expectRefusal(await c.request({ type: 'SEARCH-WORDS', rq: rq(), words: 'a b c d e f g h i' }), 'WORDS-ERROR', /9 words; search by at most 8/);
  expectRefusal(await c.request({ type: 'SEARCH-WORDS', rq: rq(), words: '!!' }), 'WORDS-ERROR', /holds no word/);
  expectRefusal(await c.request({ type: 'SEARCH-WORDS', rq: rq(), words: '' }), 'WORDS-ERROR', /^words must be 1 to 255 characters/);
  const stranger = await client(t);
  expectRefusal(await stranger.request({ type: 'SEARCH-WORDS', rq: rq(), words: tag }), 'WORDS-ERROR', /^register first/);
});

test('a cursor that is not a `next` of the same kind is refused, naming cursor', async (t) => {
  const { client: c, name } = await registeredPeer(t, 'cursor');
  expectRefusal(await c.request({ type: 'RETRIEVE-ALL', rq: rq(), cursor: 'bm9wZQ' }), 'RETRIEVE-ERROR', /^cursor must be a `next` value/);
  expectRefusal(await c.request({ type: 'RETRIEVE-INFOT', rq: rq(), name, cursor: 'QWxpY2U' }), 'RETRIEVE-ERROR', /^cursor/);
  expectRefusal(await c.request({ type: 'SEARCH-FILE', rq: rq(), file: 'x', cursor: 'a$b' }), 'SEARCH-ERROR', /^cursor "a\$b" must be a `next` value/);
});

test('a JSON object with an unknown or missing type gets ERROR; an unreadable rq is null', async (t) => {
  const c = await client(t);
  const n = rq();
  const unknown = expectType(await c.request({ type: 'HELLO', rq: n }), 'ERROR');
  assert.equal(unknown.rq, n);
  assert.match(unknown.reason, /type "HELLO" is not a request this server knows; expected one of REGISTER/);
  assert.match(expectType(await c.request({ rq: rq() }), 'ERROR').reason, /^type is required$/);
  c.send({ type: 'REGISTER', rq: -1, name: 'x' });
  const badRq = await c.waitFor((r) => r.reply?.type === 'ERROR' && r.reply.rq === null, 10_000);
  assert.ok(badRq, 'no ERROR for an unreadable rq');
  assert.match((badRq.reply as { reason: string }).reason, /^rq must be an integer from 0 to 2147483647, got -1$/);
});

test('garbage gets no reply: not UTF-8, not JSON, not an object, over the size limit', async (t) => {
  const c = await client(t);
  const garbage = [
    Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
    Buffer.from('{"type":"REGISTER",'),
    Buffer.from('[1,2,3]'),
    Buffer.from('"REGISTER"'),
    Buffer.from('null'),
    Buffer.from(JSON.stringify({ type: 'SEARCH-FILE', rq: 1, file: 'x'.repeat(2000) })),
    Buffer.alloc(0),
  ];
  for (const bytes of garbage) c.send(bytes);
  // One valid request after them: once its reply is in, anything the garbage provoked is in too
  // (the server answers in order, and loopback keeps order).
  expectType(await c.request({ type: 'HELLO', rq: rq() }), 'ERROR');
  assert.equal(c.received().length, 1, `unexpected replies: ${c.received().map((r) => r.bytes.toString()).join(' | ')}`);
});
