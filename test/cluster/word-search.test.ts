// The word index follows the changes other servers make: two index servers (real processes) on one
// PostgreSQL registry; what is published, removed or de-registered through one is found, or no
// longer found, by SEARCH-WORDS through the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, uniqueName } from '../helpers/server.js';
import { ask, clusterDatabase, eventually, startCluster, type Instance } from './harness.js';

const db = await clusterDatabase();
const skip = db.skip;
const cluster = skip ? [] : await startCluster(2, db.url);
const [a, b] = cluster as [Instance, Instance];

let nextRq = 1;
const rq = () => nextRq++;


/** The names SEARCH-WORDS lists through `instance`, every page. */
async function found(client: RawClient, instance: Instance, words: string, token: string): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const reply = await ask(client, instance, { type: 'SEARCH-WORDS', rq: rq(), words, token, ...(cursor ? { cursor } : {}) });
    assert.equal(reply.type, 'WORDS-FOUND', JSON.stringify(reply));
    if (reply.type !== 'WORDS-FOUND') return names;
    names.push(...reply.files.map((f) => f.name));
    cursor = reply.next;
  } while (cursor);
  return names;
}

test('files published, removed and de-registered through A are found, then not found, by words through B', { skip }, async (t) => {
  const client = await RawClient.open(a.address, t);
  const name = uniqueName('words');
  const registered = await ask(client, a, { type: 'REGISTER', rq: rq(), name, ip: client.address.ip, udpPort: client.address.port, tcpPort: 6000 });
  assert.equal(registered.type, 'REGISTERED');
  const token = (registered as { token: string }).token;
  const tag = name.replace(/[^a-z0-9]/gi, '');
  const files = [`Grüße ${tag} Ölmühle.txt`, `${tag}_oelmuehle_notes.md`, `other ${tag}.txt`];
  assert.equal((await ask(client, a, { type: 'PUBLISH', rq: rq(), name, token, files })).type, 'PUBLISHED');

  // A read that would miss waits for the change log, so the first answer through B already has them.
  assert.deepEqual(await found(client, b, `olmuhle ${tag.toUpperCase()}`, token), [files[0]]);
  assert.deepEqual((await found(client, b, tag, token)).sort(), [...files].sort());

  assert.equal((await ask(client, a, { type: 'REMOVE', rq: rq(), name, token, files: [files[0]!] })).type, 'REMOVED');
  assert.ok(await eventually(async () => (await found(client, b, `olmuhle ${tag}`, token)).length === 0), 'the removed file left B\'s index');

  // Another peer shares the same name through B: A counts two holders, and one after a de-registration.
  const other = await RawClient.open(b.address, t);
  const otherName = uniqueName('words2');
  const otherReg = await ask(other, b, { type: 'REGISTER', rq: rq(), name: otherName, ip: other.address.ip, udpPort: other.address.port, tcpPort: 6001 });
  const otherToken = (otherReg as { token: string }).token;
  assert.equal((await ask(other, b, { type: 'PUBLISH', rq: rq(), name: otherName, token: otherToken, files: [files[2]!] })).type, 'PUBLISHED');
  const holders = async () => {
    const reply = await ask(client, a, { type: 'SEARCH-WORDS', rq: rq(), words: `other ${tag}`, token });
    return reply.type === 'WORDS-FOUND' ? reply.files.map((f) => `${f.name}:${f.holders}`) : [];
  };
  assert.ok(await eventually(async () => (await holders()).join() === `${files[2]}:2`), 'A sees both holders');
  assert.equal((await ask(client, a, { type: 'DE-REGISTER', rq: rq(), name, token })).type, 'DE-REGISTERED');
  assert.ok(await eventually(async () => {
    const reply = await ask(other, b, { type: 'SEARCH-WORDS', rq: rq(), words: tag, token: otherToken });
    return reply.type === 'WORDS-FOUND' && reply.files.map((f) => `${f.name}:${f.holders}`).join() === `${files[2]}:1`;
  }), 'B forgot the de-registered peer\'s files');
});
