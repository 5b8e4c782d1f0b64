// Large answers are paged: no reply exceeds the datagram limit, and a client following `next` sees
// every peer that stayed registered during its scan exactly once, even while others come and go.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerListing, SearchFileReply } from '../../src/generated/types.js';
import type { RawClient } from '../helpers/server.js';
import { uniqueName } from '../helpers/server.js';
import { client, conformanceTarget, deregisterAfter, expectRefusal, expectType, registeredPeer, rq } from './target.js';

const PEERS = 300;
const FILES_EACH = 20;
const IN_FLIGHT = 50;

/** Runs `work` over `items` with at most IN_FLIGHT requests outstanding. */
async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += IN_FLIGHT) await Promise.all(items.slice(i, i + IN_FLIGHT).map(work));
}

/** Registers `count` names from one socket (authorised later by token) with FILES_EACH files each. */
async function populate(t: TestContext, c: RawClient, prefix: string, count: number): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
  deregisterAfter(t, () => tokens);
  await inBatches(names, async (name) => {
    const reply = await c.request({ type: 'REGISTER', rq: rq(), name, ip: c.address.ip, udpPort: c.address.port, tcpPort: 6000 });
    const token = expectType(reply, 'REGISTERED').token;
    tokens.set(name, token);
    const files = Array.from({ length: FILES_EACH }, (_, f) => ({ name: `${name}-${f}`, size: f }));
    expectType(await c.request({ type: 'PUBLISH', rq: rq(), name, files, token }), 'PUBLISHED');
  });
  return tokens;
}

/** Follows RETRIEVE-ALL's `next` to the end; `between` runs after every page (to change the registry mid-scan). */
async function scanAll(c: RawClient, token: string, between: (page: number) => Promise<void> = async () => {}): Promise<PeerListing[]> {
  const listings: PeerListing[] = [];
  let cursor: string | undefined;
  for (let page = 0; ; page++) {
    const reply = expectType(await c.request({ type: 'RETRIEVE-ALL', rq: rq(), token, ...(cursor ? { cursor } : {}) }), 'RETRIEVE');
    for (const listing of reply.peers) {
      const last = listings.at(-1);
      // A peer whose files did not fit continues, under the same name, at the start of the next page.
      if (last?.name === listing.name) last.files.push(...listing.files);
      else listings.push({ ...listing, files: [...listing.files] });
    }
    if (!reply.next) return listings;
    cursor = reply.next;
    await between(page);
  }
}

test(`RETRIEVE-ALL pages ${PEERS} peers × ${FILES_EACH} files: each peer once, every file, name order`, async (t) => {
  const c = await client(t);
  const prefix = uniqueName('pg');
  const tokens = await populate(t, c, prefix, PEERS);
  const token = tokens.values().next().value!;
  const listings = await scanAll(c, token);
  const names = listings.map((l) => l.name);
  assert.deepEqual(names, [...names].sort(), 'peers are in name order');
  assert.equal(new Set(names).size, names.length, 'no peer appears twice');
  const ours = listings.filter((l) => l.name.startsWith(prefix));
  assert.equal(ours.length, PEERS);
  for (const listing of ours) {
    assert.deepEqual(listing.files.map((f) => f.name), Array.from({ length: FILES_EACH }, (_, f) => `${listing.name}-${f}`).sort());
  }
});

test('a scan sees every peer that stayed registered exactly once while others register and leave', async (t) => {
  const c = await client(t);
  const churner = await client(t);
  const prefix = uniqueName('st');
  const tokens = await populate(t, c, prefix, PEERS);
  const leaving = [...tokens].filter((_, i) => i % 6 === 0);
  const arriving = Array.from({ length: 120 }, (_, i) => `${prefix}-new-${String(i).padStart(3, '0')}`);
  const arrived: Array<[string, string]> = [];
  deregisterAfter(t, () => arrived);
  const token = [...tokens].find((_, i) => i % 6 === 1)![1];
  const listings = await scanAll(c, token, async (page) => {
    // After every page: two leave, three arrive (names sorting before, among and after the scan position).
    await Promise.all([
      ...leaving.splice(0, 2).map(async ([name, tok]) => {
        expectType(await churner.request({ type: 'DE-REGISTER', rq: rq(), name, token: tok }), 'DE-REGISTERED');
        tokens.delete(name);
      }),
      ...arriving.splice(0, 3).map(async (name) => {
        const reply = await churner.request({ type: 'REGISTER', rq: rq(), name, ip: churner.address.ip, udpPort: churner.address.port, tcpPort: 1 });
        arrived.push([name, expectType(reply, 'REGISTERED').token]);
      }),
    ]);
    assert.ok(page < 1000, 'the scan does not end');
  });
  const names = listings.map((l) => l.name);
  assert.equal(new Set(names).size, names.length, 'no peer appears twice');
  assert.deepEqual(names, [...names].sort(), 'peers are in name order');
  const seen = new Set(names);
  // Every peer registered before the scan that was still registered at its end was listed, with all its files.
  for (const name of tokens.keys()) assert.ok(seen.has(name), `${name} stayed registered but was not listed`);
  for (const listing of listings.filter((l) => tokens.has(l.name))) assert.equal(listing.files.length, FILES_EACH);
});

test('RETRIEVE-INFOT pages one peer\'s files and SEARCH-FILE pages the holders of one file', async (t) => {
  const { maxDatagram } = await conformanceTarget();
  const owner = await registeredPeer(t, 'big');
  const files = Array.from({ length: 150 }, (_, i) => `${'long-file-name-'.repeat(4)}${String(i).padStart(3, '0')}.bin`);
  for (let i = 0; i < files.length; i += 10) {
    expectType(await owner.client.request({ type: 'PUBLISH', rq: rq(), name: owner.name, files: files.slice(i, i + 10) }), 'PUBLISHED');
  }
  const listed: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const exchange = await owner.client.exchange({ type: 'RETRIEVE-INFOT', rq: rq(), name: owner.name, ...(cursor ? { cursor } : {}) });
    assert.ok(exchange.bytes.length <= maxDatagram);
    const reply = expectType(exchange.reply, 'RETRIEVE-INFOT');
    listed.push(...reply.files.map((f) => f.name));
    cursor = reply.next;
    pages++;
  } while (cursor);
  assert.deepEqual(listed, [...files].sort());
  assert.ok(pages > 1, 'the list needed more than one page');

  const c = await client(t);
  const common = `${uniqueName('common')}.iso`;
  const holders = await populate(t, c, uniqueName('holder'), 60);
  await inBatches([...holders], async ([name, token]) => {
    expectType(await c.request({ type: 'PUBLISH', rq: rq(), name, files: [{ name: common, size: 1, sha256: 'f'.repeat(64) }], token }), 'PUBLISHED');
  });
  const found: string[] = [];
  cursor = undefined;
  do {
    const reply: SearchFileReply = expectType(await c.request({ type: 'SEARCH-FILE', rq: rq(), file: common, token: owner.token, ...(cursor ? { cursor } : {}) }), 'SEARCH-FILE');
    found.push(...reply.peers.map((p) => p.name));
    cursor = reply.next;
  } while (cursor);
  assert.deepEqual(found, [...holders.keys()].sort());
});

test('a file name no reply page could hold is refused at PUBLISH; the longest that fits is listable', async (t) => {
  const { maxDatagram } = await conformanceTarget();
  const { client: c, name } = await registeredPeer(t, 'long');
  const fourByteName = '\u{1F600}'.repeat(255); // 255 characters, 1,020 bytes
  const refused = await c.request({ type: 'PUBLISH', rq: rq(), name, files: [{ name: fourByteName, size: 1, sha256: 'e'.repeat(64) }] });
  if (maxDatagram < 1500) expectRefusal(refused, 'PUBLISH-DENIED', /^files\[0\] ".+" is too long to list: a reply holding it needs \d+ bytes/);
  const ascii = 'n'.repeat(255);
  expectType(await c.request({ type: 'PUBLISH', rq: rq(), name, files: [{ name: ascii, size: 1, sha256: 'e'.repeat(64) }] }), 'PUBLISHED');
  const found = expectType(await c.request({ type: 'SEARCH-FILE', rq: rq(), file: ascii }), 'SEARCH-FILE');
  assert.deepEqual(found.peers.map((p) => p.name), [name]);
});
