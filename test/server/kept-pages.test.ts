// Kept pages on their own (any rq fits, a registry change drops them, the oldest question goes first),
// and through the pipeline against a fresh answer: under random registrations, publishes, removals,
// contact moves and departures, every read gets exactly the bytes computing it anew would give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { UdpReply } from '../../src/generated/catalogue.js';
import { silentLogger } from '../../src/log/index.js';
import { decodeUdpRequest } from '../../src/protocol/index.js';
import { Registry, type StoredPeer } from '../../src/registry/index.js';
import { Counters } from '../../src/server/counters.js';
import { Answers, type ReadRequest } from '../../src/server/handlers.js';
import { encodePage, type Page } from '../../src/server/pages/encode.js';
import { infotPage, retrievePage, searchPage } from '../../src/server/pages/paging.js';
import { DatagramPipeline } from '../../src/server/pipeline.js';
import { KeptPages } from '../../src/server/replies/kept-pages.js';
import { MutationReplyCache } from '../../src/server/replies/mutation-replies.js';
import { ReadReplyCache } from '../../src/server/replies/read-replies.js';
import { openStore } from '../../src/stores/index.js';

const search = (rq: number, file: string): ReadRequest => ({ type: 'SEARCH-FILE', rq, file });
const searchReply = (rq: number, file: string): Page => ({ type: 'SEARCH-FILE', rq, file, peers: [{ name: 'alice', ip: '192.0.2.1', tcpPort: 6000 }] });

test('a kept reply takes any rq, however many digits it has', () => {
  const registry = { revision: 0 };
  const pages = new KeptPages(registry);
  pages.keep(search(7, 'a.txt'), searchReply(7, 'a.txt'), encodePage(searchReply(7, 'a.txt')));
  for (const rq of [0, 5, 10, 99, 12_345, 2_147_483_647]) {
    assert.deepEqual(pages.find(search(rq, 'a.txt'))?.withRq(rq), encodePage(searchReply(rq, 'a.txt')));
  }
  assert.equal(pages.find(search(1, 'b.txt')), undefined, 'another question');
  assert.equal(pages.find({ type: 'SEARCH-FILE', rq: 1, file: 'a.txt', cursor: 'AAAA' }), undefined, 'the same subject with a cursor');
  assert.equal(pages.find({ type: 'RETRIEVE-INFOT', rq: 1, name: 'a.txt' }), undefined, 'another kind of read');
});

test('a change to the registry drops every kept reply', () => {
  const registry = { revision: 0 };
  const pages = new KeptPages(registry);
  pages.keep(search(1, 'a.txt'), searchReply(1, 'a.txt'), encodePage(searchReply(1, 'a.txt')));
  assert.ok(pages.find(search(2, 'a.txt')));
  registry.revision++;
  assert.equal(pages.find(search(3, 'a.txt')), undefined);
  assert.equal(pages.size, 0);
});

test('a reply kept at an older revision is not kept at all', () => {
  const registry = { revision: 0 };
  const pages = new KeptPages(registry);
  registry.revision++;
  pages.keep(search(1, 'a.txt'), searchReply(1, 'a.txt'), encodePage(searchReply(1, 'a.txt')));
  assert.ok(pages.find(search(2, 'a.txt')), 'kept at the revision it was computed at');
});

test('each kind of read keeps a bounded number of questions, the oldest going first', () => {
  const pages = new KeptPages({ revision: 0 }, 3);
  for (const file of ['a', 'b', 'c', 'd']) pages.keep(search(1, file), searchReply(1, file), encodePage(searchReply(1, file)));
  assert.equal(pages.find(search(1, 'a')), undefined);
  for (const file of ['b', 'c', 'd']) assert.ok(pages.find(search(1, file)), file);
  assert.equal(pages.size, 3);
  // Round the ring of questions a few times, keeping one question twice on the way.
  const files = Array.from({ length: 10 }, (_, i) => `f${i}`);
  for (const file of [...files.slice(0, 5), 'f4', ...files.slice(5)]) pages.keep(search(1, file), searchReply(1, file), encodePage(searchReply(1, file)));
  assert.deepEqual(files.filter((file) => pages.find(search(1, file))), ['f7', 'f8', 'f9']);
  assert.equal(pages.size, 3);
});

test('bytes that do not start with the reply type and rq are not kept', () => {
  const pages = new KeptPages({ revision: 0 });
  pages.keep(search(1, 'a'), searchReply(1, 'a'), Buffer.from('{"rq":1,"type":"SEARCH-FILE"}'));
  pages.keep(search(12, 'b'), searchReply(12, 'b'), encodePage(searchReply(13, 'b')));
  assert.equal(pages.size, 0);
});

test('what a page lists does not depend on its rq, at any datagram limit', async () => {
  const registry = await Registry.open(await openStore<StoredPeer>(`memory://kept-${randomUUID()}`, 'peers'));
  for (let p = 0; p < 12; p++) {
    const from = { ip: '192.0.2.1', port: 5000 + p };
    await registry.register(`peer-${p}`, { ip: from.ip, udpPort: from.port, tcpPort: 6000 }, { from });
    await registry.publish(`peer-${p}`, Array.from({ length: 12 }, (_, f) => ({ name: `file-${f}`, size: f })), { from });
  }
  // Every limit from 300 to 420 bytes puts a page boundary within the nine bytes rq may take.
  for (let limit = 300; limit <= 420; limit++) {
    for (const rq of [0, 2_147_483_647]) {
      const listed = (page: { peers?: unknown; files?: unknown; next?: string }) => JSON.stringify([page.peers ?? page.files, page.next]);
      assert.equal(listed(searchPage(registry, 'file-1', rq, undefined, limit)), listed(searchPage(registry, 'file-1', 1, undefined, limit)), `SEARCH-FILE at ${limit}`);
      assert.equal(listed(infotPage(registry.peer('peer-0')!, rq, undefined, limit)), listed(infotPage(registry.peer('peer-0')!, 1, undefined, limit)), `RETRIEVE-INFOT at ${limit}`);
      assert.equal(listed(retrievePage(registry, rq, undefined, limit)), listed(retrievePage(registry, 1, undefined, limit)), `RETRIEVE at ${limit}`);
    }
  }
});

/** One step of the random workload: a mutation by one of a few peers, or a read by one of them. */
type Step =
  | { kind: 'register'; peer: number; port: number }
  | { kind: 'deregister'; peer: number }
  | { kind: 'publish'; peer: number; files: number[] }
  | { kind: 'remove'; peer: number; files: number[] }
  | { kind: 'search'; peer: number; file: number; rq: number }
  | { kind: 'infot'; peer: number; of: number; rq: number }
  | { kind: 'all'; peer: number; rq: number; page: number };

const peerIndex = fc.integer({ min: 0, max: 5 });
const fileIndexes = fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 12 });
const rqs = fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }));
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('register' as const), peer: peerIndex, port: fc.integer({ min: 6000, max: 6002 }) }),
  fc.record({ kind: fc.constant('deregister' as const), peer: peerIndex }),
  fc.record({ kind: fc.constant('publish' as const), peer: peerIndex, files: fileIndexes }),
  fc.record({ kind: fc.constant('remove' as const), peer: peerIndex, files: fileIndexes }),
  fc.record({ kind: fc.constant('search' as const), peer: peerIndex, file: fc.integer({ min: 0, max: 40 }), rq: rqs }),
  fc.record({ kind: fc.constant('infot' as const), peer: peerIndex, of: peerIndex, rq: rqs }),
  fc.record({ kind: fc.constant('all' as const), peer: peerIndex, rq: rqs, page: fc.integer({ min: 0, max: 3 }) }),
);

test('through the pipeline, every read gets the bytes a fresh answer gives, whatever changed before it', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 120 }), async (steps) => {
      const registry = await Registry.open(await openStore<StoredPeer>(`memory://kept-${randomUUID()}`, 'peers'));
      // A small datagram limit, so that peers' file lists and RETRIEVE run over several pages.
      const maxDatagram = 600;
      const answers = new Answers({ registry, maxDatagram, keptPages: new KeptPages(registry), counters: new Counters(), log: silentLogger });
      const pipeline = new DatagramPipeline({
        answers, maxDatagram, log: silentLogger, counters: new Counters(), limiter: undefined,
        readReplies: new ReadReplyCache(), mutationReplies: new MutationReplyCache(),
      });
      /** A fresh answer: the same entry with nothing kept (and the same marks of the client as seen). */
      const freshAnswer = (request: ReadRequest, by: { ip: string; port: number }, bytes: Buffer) =>
        (new Answers({ registry, maxDatagram, keptPages: new KeptPages(registry), counters: new Counters(), log: silentLogger }).answer(request, by, bytes) as Buffer).toString();
      const from = (peer: number) => ({ ip: '192.0.2.1', port: 5000 + peer });
      // Reads come from a registered peer when there is one (others are refused, and nothing is kept).
      const registered = new Set<number>();
      const reader = (peer: number) => (registered.size === 0 || registered.has(peer) ? peer : [...registered][peer % registered.size]!);
      const name = (peer: number) => `peer-${peer}`;
      // RETRIEVE-ALL cursors seen so far, so reads ask for later pages too.
      const cursors: string[] = [];
      // A read repeated with the same rq is a retransmission: it must get its first reply again.
      const firstReplies = new Map<string, string>();
      let mutationRq = 0;
      for (const s of steps) {
        if (s.kind === 'search' || s.kind === 'infot' || s.kind === 'all') {
          const request =
            s.kind === 'search' ? { type: 'SEARCH-FILE', rq: s.rq, file: `file-${s.file}` }
            : s.kind === 'infot' ? { type: 'RETRIEVE-INFOT', rq: s.rq, name: name(s.of) }
            : { type: 'RETRIEVE-ALL', rq: s.rq, ...(cursors.length > 0 && s.page > 0 ? { cursor: cursors[s.page % cursors.length] } : {}) };
          const bytes = Buffer.from(JSON.stringify(request));
          const decoded = decodeUdpRequest(bytes) as ReadRequest;
          const by = reader(s.peer);
          const fresh = freshAnswer(decoded, from(by), bytes);
          const got = (pipeline.receive(bytes, from(by)) as Buffer).toString();
          const asked = `${by} ${bytes}`;
          const expected = firstReplies.get(asked) ?? fresh;
          firstReplies.set(asked, expected);
          assert.equal(got, expected, `${JSON.stringify(request)} after ${registry.revision} changes`);
          const freshReply = JSON.parse(fresh) as UdpReply;
          if (freshReply.type === 'RETRIEVE' && freshReply.next) cursors.push(freshReply.next);
          continue;
        }
        const request =
          s.kind === 'register' ? { type: 'REGISTER', rq: ++mutationRq, name: name(s.peer), ip: '192.0.2.1', udpPort: from(s.peer).port, tcpPort: s.port }
          : s.kind === 'deregister' ? { type: 'DE-REGISTER', rq: ++mutationRq, name: name(s.peer) }
          : s.kind === 'publish' ? { type: 'PUBLISH', rq: ++mutationRq, name: name(s.peer), files: s.files.map((f) => ({ name: `file-${f}`, size: f * 1000 })) }
          : { type: 'REMOVE', rq: ++mutationRq, name: name(s.peer), files: s.files.map((f) => `file-${f}`) };
        const reply = JSON.parse((await pipeline.receive(Buffer.from(JSON.stringify(request)), from(s.peer)))!.toString()) as UdpReply;
        if (reply.type === 'REGISTERED') registered.add(s.peer);
        if (reply.type === 'DE-REGISTERED') registered.delete(s.peer);
      }
    }),
    { numRuns: 200 },
  );
});
