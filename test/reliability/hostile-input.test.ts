// The hostile corpus (hostile-corpus.ts) thrown at a real server over loopback, from a registered
// client carrying its valid token and address (so authorisation is never what refuses a request),
// then from an unregistered source. Every case gets exactly what the corpus says — the refusal with
// a reason naming the field, ERROR, or silence for garbage — and the registry snapshot is the same
// before and after. Replies are weighed against their requests: the amplification factor is printed.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MAX_DATAGRAM_BYTES } from '../../src/protocol/index.js';
import { RawClient, startTestServer, uniqueName, type TestServer } from '../helpers/server.js';
import { hostileCorpus, type HostileCase, type Sender } from './hostile-corpus.js';
import { report } from './report.js';

/** IPv4 + UDP headers: what each datagram costs on the wire beyond its payload. */
const HEADERS = 28;

interface Setup {
  server: TestServer;
  me: RawClient;
  sender: Sender;
}

let nextRq = 1;

type Request = { rq: number; [field: string]: unknown };
/** RawClient.request with any fields (the helper's type takes only rq, so literals need this). */
const ask = (client: RawClient, message: Request) => client.request(message);

async function setup(t: TestContext): Promise<Setup> {
  const server = await startTestServer(t);
  const me = await RawClient.open(server.target, t);
  const name = uniqueName('hostile');
  const registered = await ask(me, { type: 'REGISTER', rq: nextRq++, name, ip: '127.0.0.1', udpPort: me.address.port, tcpPort: 7000 });
  assert.equal(registered.type, 'REGISTERED');
  const token = (registered as { token: string }).token;
  assert.equal((await ask(me, { type: 'PUBLISH', rq: nextRq++, name, token, files: ['a.txt', 'café.txt', { name: 'b.bin', size: 3 }] })).type, 'PUBLISHED');
  // Another peer with enough files that listings are paged: replies as large as the limit allows.
  const other = await RawClient.open(server.target, t);
  const otherName = uniqueName('other');
  const reg2 = await ask(other, { type: 'REGISTER', rq: nextRq++, name: otherName, ip: '127.0.0.1', udpPort: other.address.port, tcpPort: 7001 });
  const files = Array.from({ length: 60 }, (_, i) => ({ name: `shared-file-with-a-long-name-${String(i).padStart(3, '0')}.iso`, size: 1e9 + i, sha256: randomBytes(32).toString('hex') }));
  for (let i = 0; i < files.length; i += 5) {
    assert.equal((await ask(other, { type: 'PUBLISH', rq: nextRq++, name: otherName, token: (reg2 as { token: string }).token, files: files.slice(i, i + 5) })).type, 'PUBLISHED');
  }
  return { server, me, sender: { name, token, ip: '127.0.0.1', udpPort: me.address.port } };
}

/** Sends one case and returns the datagrams it got (none for garbage), the probe proving it was handled. */
async function throwCase(client: RawClient, probeName: string, token: string, hostile: HostileCase): Promise<Buffer[]> {
  const before = client.received().length;
  client.send(hostile.bytes);
  const expect = hostile.expect;
  if (!('drop' in expect)) {
    const rq = rqOf(hostile.bytes);
    const answers = (r: { reply: { type: string; rq: number | null } | undefined }) => r.reply?.rq === rq || (rq === null && r.reply?.type === 'ERROR');
    const got = await client.waitFor((r) => client.received().indexOf(r) >= before && answers(r), 3000);
    assert.ok(got, `${hostile.label}: no reply within 3 s`);
  }
  // A query sent after it: once its answer is here, the case has been handled (and the datagram, if dropped, was dropped).
  const probe = nextRq++;
  await ask(client, { type: 'RETRIEVE-INFOT', rq: probe, name: probeName, token });
  return client.received().slice(before).filter((r) => r.reply?.rq !== probe).map((r) => r.bytes);
}

function rqOf(bytes: Buffer): number | null {
  try {
    const rq = (JSON.parse(bytes.toString()) as { rq?: unknown }).rq;
    return typeof rq === 'number' && Number.isInteger(rq) && rq >= 0 && rq < 2 ** 31 ? rq : null;
  } catch {
    return null;
  }
}

const snapshot = (server: TestServer) => JSON.stringify(server.registry.snapshot());

describe('hostile input: every request type, from a registered client and from a stranger', () => {
  test('each case gets its refusal naming the field, ERROR, or nothing for garbage; the registry is unchanged; Object.prototype untouched', async (t) => {
    const { server, me, sender } = await setup(t);
    const started = performance.now();
    const corpus = hostileCorpus(sender);
    const before = snapshot(server);
    const droppedBefore = server.stats().dropped;
    const problems: string[] = [];
    let worst = { ratio: 0, label: '' };
    for (const hostile of corpus) {
      const replies = await throwCase(me, sender.name, sender.token, hostile);
      const expect = hostile.expect;
      if ('drop' in expect) {
        if (replies.length > 0) problems.push(`${hostile.label}: expected no reply, got ${replies[0]!.toString().slice(0, 200)}`);
      } else if (replies.length !== 1) {
        problems.push(`${hostile.label}: expected one ${expect.reply}, got ${replies.length} replies`);
      } else {
        const reply = JSON.parse(replies[0]!.toString()) as { type: string; rq: number | null; reason?: string };
        if (reply.type !== expect.reply) problems.push(`${hostile.label}: expected ${expect.reply}, got ${reply.type}: ${reply.reason}`);
        else if (!reply.reason?.includes(expect.field)) problems.push(`${hostile.label}: reason does not name ${expect.field}: ${reply.reason}`);
        const ratio = replies[0]!.length / Math.max(1, hostile.bytes.length);
        if (ratio > worst.ratio) worst = { ratio, label: hostile.label };
      }
      const after = snapshot(server);
      if (after !== before) problems.push(`${hostile.label}: the registry changed`);
    }
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(problems, []);
    const drops = corpus.filter((c) => 'drop' in c.expect).length;
    assert.equal(server.stats().dropped - droppedBefore, drops, 'every garbage datagram counted as dropped');
    report({
      scenario: 'hostile input corpus', load: `${corpus.length} datagrams from a registered client`,
      faults: `every request type: oversized, wrong types, NFD/NFC, bidi marks, control chars, __proto__/constructor, 1e309, -0, nesting, duplicate keys, huge arrays; ${drops} garbage`,
      attempted: corpus.length, completed: corpus.length, lost: 0, ms: performance.now() - started,
      notes: `each refused naming its field or dropped; registry unchanged; worst reply/request ${worst.ratio.toFixed(1)}× (${worst.label})`,
    });
  });

  test('NFD and NFC spellings are one file name: re-publishing or searching the other spelling changes nothing', async (t) => {
    const { server, me, sender } = await setup(t);
    const before = snapshot(server);
    const nfd = 'cafe\u0301.txt';
    assert.equal((await ask(me, { type: 'PUBLISH', rq: nextRq++, name: sender.name, token: sender.token, files: [nfd] })).type, 'PUBLISHED');
    assert.equal(snapshot(server), before, 'publishing café.txt in NFD again adds nothing');
    const found = await ask(me, { type: 'SEARCH-FILE', rq: nextRq++, file: nfd, token: sender.token });
    assert.equal(found.type, 'SEARCH-FILE');
    assert.deepEqual((found as { peers: Array<{ name: string }> }).peers.map((p) => p.name), [sender.name]);
  });

  test(`amplification: a stranger gets only short refusals (≤ 400 B); a registered client at most one ${MAX_DATAGRAM_BYTES}-byte page per request (factors printed)`, async (t) => {
    const { server, me, sender } = await setup(t);
    const started = performance.now();
    const stranger = await RawClient.open(server.target, t);
    const strangerSender: Sender = { name: uniqueName('stranger'), token: randomBytes(16).toString('hex'), ip: '127.0.0.1', udpPort: stranger.address.port };
    const before = snapshot(server);
    // The corpus again, plus valid queries, from a source with no registration (and a token nobody was given).
    const cases: HostileCase[] = [
      ...hostileCorpus(strangerSender),
      ...(['RETRIEVE-ALL', 'RETRIEVE-INFOT', 'SEARCH-FILE'] as const).map((type): HostileCase => ({
        label: `${type} from a stranger`, requestType: type, expect: { reply: 'any', field: '' },
        bytes: Buffer.from(JSON.stringify(type === 'RETRIEVE-ALL' ? { type, rq: nextRq++ } : type === 'SEARCH-FILE' ? { type, rq: nextRq++, file: 'a' } : { type, rq: nextRq++, name: sender.name })),
      })),
    ];
    let strangerWorst = { ratio: 0, wire: 0, bytes: 0, label: '' };
    let strangerLargest = { bytes: 0, label: '' };
    let strangerWire = { wire: 0, label: '' };
    for (const hostile of cases) {
      const mark = stranger.received().length;
      stranger.send(hostile.bytes);
      // Once a query sent after it is answered, the server has handled it (garbage: dropped).
      await ask(me, { type: 'RETRIEVE-INFOT', rq: nextRq++, name: sender.name, token: sender.token });
      const expectsReply = !('drop' in hostile.expect);
      const replies = expectsReply ? [await stranger.waitFor((r) => stranger.received().indexOf(r) >= mark, 3000)] : stranger.received().slice(mark);
      for (const got of replies) {
        if (!expectsReply) assert.fail(`${hostile.label}: garbage from a stranger was answered`);
        assert.ok(got, `${hostile.label}: a stranger got no reply`);
        const reply = got.reply!;
        assert.ok(/-DENIED$|-ERROR$|^ERROR$|^DE-REGISTERED$/.test(reply.type), `${hostile.label}: a stranger got ${reply.type}`);
        const ratio = got.bytes.length / Math.max(1, hostile.bytes.length);
        const wire = (got.bytes.length + HEADERS) / (hostile.bytes.length + HEADERS);
        if (ratio > strangerWorst.ratio) strangerWorst = { ratio, wire, bytes: got.bytes.length, label: hostile.label };
        if (wire > strangerWire.wire) strangerWire = { wire, label: hostile.label };
        if (got.bytes.length > strangerLargest.bytes) strangerLargest = { bytes: got.bytes.length, label: hostile.label };
      }
    }
    assert.equal(snapshot(server), before);

    // A registered client's cheapest queries and the largest replies they can draw.
    // Without a token (authorised by address) the requests are as short as they get: the worst ratios.
    const otherName = server.registry.names().find((n) => n.startsWith('other'))!;
    const queries: Request[] = [
      { type: 'RETRIEVE-ALL', rq: nextRq++ },
      { type: 'RETRIEVE-ALL', rq: nextRq++, token: sender.token },
      { type: 'RETRIEVE-INFOT', rq: nextRq++, name: otherName },
      { type: 'SEARCH-FILE', rq: nextRq++, file: 'shared-file-with-a-long-name-000.iso' },
    ];
    let registeredWorst = { ratio: 0, wire: 0, bytes: 0, label: '' };
    for (const query of queries) {
      const { bytes } = await me.exchange(query);
      const sent = Buffer.byteLength(JSON.stringify(query));
      assert.ok(bytes.length <= MAX_DATAGRAM_BYTES, `${query.type}: reply of ${bytes.length} bytes`);
      const ratio = bytes.length / sent;
      if (ratio > registeredWorst.ratio) registeredWorst = { ratio, wire: (bytes.length + HEADERS) / (sent + HEADERS), bytes: bytes.length, label: String(query.type) };
    }
    const text =
      `stranger: worst ${strangerWorst.ratio.toFixed(1)}× payload (${strangerWorst.wire.toFixed(1)}× on the wire, ${strangerWorst.bytes} B reply) for "${strangerWorst.label}", largest reply ${strangerLargest.bytes} B ("${strangerLargest.label}"), worst on the wire ${strangerWire.wire.toFixed(1)}× ("${strangerWire.label}"); ` +
      `registered: worst ${registeredWorst.ratio.toFixed(1)}× payload (${registeredWorst.wire.toFixed(1)}× on the wire, ${registeredWorst.bytes} B reply, limit ${MAX_DATAGRAM_BYTES}) for ${registeredWorst.label}`;
    console.log(`reliability: amplification: ${text}`);
    report({
      scenario: 'amplification', load: `${cases.length} stranger datagrams, ${queries.length} registered queries`, faults: 'hostile corpus from an unregistered source',
      attempted: cases.length + queries.length, completed: cases.length + queries.length, lost: 0, ms: performance.now() - started,
      notes: `stranger: replies ≤ ${strangerLargest.bytes} B, worst ${strangerWorst.ratio.toFixed(1)}× payload, ${strangerWire.wire.toFixed(1)}× on the wire; ` +
        `registered: ≤ ${registeredWorst.bytes} B, worst ${registeredWorst.ratio.toFixed(1)}× payload, ${registeredWorst.wire.toFixed(1)}× on the wire`,
    });
    // The bounds: no reply to anyone exceeds the datagram limit; a stranger's replies are short sentences.
    assert.ok(strangerLargest.bytes <= 400, `a stranger drew a ${strangerLargest.bytes}-byte reply (${strangerLargest.label})`);
    assert.ok(registeredWorst.bytes <= MAX_DATAGRAM_BYTES);
  });
});
