// The two retransmission caches on their own: what a repeat finds, what it must not find (another
// source, other bytes, an expired or evicted entry), hash collisions, and the read cache's byte ring
// against a model under random use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReadReplyCache } from '../../src/server/replies/read-replies.js';
import { MutationReplyCache } from '../../src/server/replies/mutation-replies.js';

const bytes = (text: string) => Buffer.from(text);
/** rq values whose (rq, port) hash alike: the hash multiplies rq by an odd number modulo 2^30. */
const COLLIDING_RQ = [5, 5 + 2 ** 30];

interface Cache<R> {
  lookup(ip: string, port: number, rq: number, request: Buffer): R | undefined;
  remember(ip: string, port: number, rq: number, request: Buffer, reply: Buffer): void;
}

const caches: Array<[string, (clock: () => number, entries?: number) => Cache<unknown>]> = [
  ['mutation cache', (now, entries = 100) => new MutationReplyCache(entries, 60_000, now)],
  ['read cache', (now, entries = 100) => new ReadReplyCache({ entries, lifetimeMs: 60_000, now })],
];

for (const [name, create] of caches) {
  test(`${name}: a repeat from the same source with the same rq and bytes gets the same reply`, () => {
    const cache = create(() => 0);
    cache.remember('192.0.2.1', 5000, 7, bytes('{"rq":7}'), bytes('reply 7'));
    assert.deepEqual(cache.lookup('192.0.2.1', 5000, 7, bytes('{"rq":7}')), bytes('reply 7'));
    assert.equal(cache.lookup('192.0.2.2', 5000, 7, bytes('{"rq":7}')), undefined, 'another ip');
    assert.equal(cache.lookup('192.0.2.1', 5001, 7, bytes('{"rq":7}')), undefined, 'another port');
    assert.equal(cache.lookup('192.0.2.1', 5000, 8, bytes('{"rq":7}')), undefined, 'another rq');
    assert.equal(cache.lookup('192.0.2.1', 5000, 7, bytes('{"rq":7,"x":1}')), undefined, 'other bytes');
  });

  test(`${name}: a request with a used rq and other bytes replaces the one before`, () => {
    const cache = create(() => 0);
    cache.remember('::1', 5000, 1, bytes('first'), bytes('reply to first'));
    cache.remember('::1', 5000, 1, bytes('second'), bytes('reply to second'));
    assert.equal(cache.lookup('::1', 5000, 1, bytes('first')), undefined);
    assert.deepEqual(cache.lookup('::1', 5000, 1, bytes('second')), bytes('reply to second'));
  });

  test(`${name}: entries that hash alike stay apart`, () => {
    const cache = create(() => 0);
    for (const rq of COLLIDING_RQ) cache.remember('192.0.2.1', 5000, rq, bytes(`request ${rq}`), bytes(`reply ${rq}`));
    for (const ip of ['192.0.2.1', '192.0.2.2']) cache.remember(ip, 6000, 9, bytes('same request'), bytes(`reply to ${ip}`));
    for (const rq of COLLIDING_RQ) assert.deepEqual(cache.lookup('192.0.2.1', 5000, rq, bytes(`request ${rq}`)), bytes(`reply ${rq}`));
    for (const ip of ['192.0.2.1', '192.0.2.2']) assert.deepEqual(cache.lookup(ip, 6000, 9, bytes('same request')), bytes(`reply to ${ip}`));
  });

  test(`${name}: entries expire after their lifetime`, () => {
    let now = 0;
    const cache = create(() => now);
    cache.remember('192.0.2.1', 5000, 1, bytes('r'), bytes('a'));
    now = 59_999;
    assert.ok(cache.lookup('192.0.2.1', 5000, 1, bytes('r')));
    now = 60_000;
    assert.equal(cache.lookup('192.0.2.1', 5000, 1, bytes('r')), undefined);
  });

  test(`${name}: when full, the oldest entries leave first`, () => {
    const cache = create(() => 0, 3);
    for (let rq = 1; rq <= 5; rq++) cache.remember('192.0.2.1', 5000, rq, bytes(`r${rq}`), bytes(`a${rq}`));
    const kept = [1, 2, 3, 4, 5].filter((rq) => cache.lookup('192.0.2.1', 5000, rq, bytes(`r${rq}`)));
    assert.deepEqual(kept, [3, 4, 5]);
  });
}

test('mutation cache: a repeat while the first is being handled gets the same pending reply', async () => {
  const cache = new MutationReplyCache(10, 60_000, () => 0);
  const pending = new Promise<Buffer>((resolve) => setImmediate(() => resolve(bytes('done'))));
  cache.remember('192.0.2.1', 5000, 1, bytes('r'), pending);
  assert.equal(cache.lookup('192.0.2.1', 5000, 1, bytes('r')), pending);
  assert.deepEqual(await cache.lookup('192.0.2.1', 5000, 1, bytes('r')), bytes('done'));
});

test('read cache: a hit is a copy that later entries cannot overwrite', () => {
  const cache = new ReadReplyCache({ entries: 4, bytes: 64, now: () => 0 });
  cache.remember('192.0.2.1', 5000, 1, bytes('r1'), bytes('reply one'));
  const hit = cache.lookup('192.0.2.1', 5000, 1, bytes('r1'))!;
  for (let rq = 2; rq < 40; rq++) cache.remember('192.0.2.1', 5000, rq, bytes(`r${rq}`), bytes('x'.repeat(30)));
  assert.equal(hit.toString(), 'reply one');
});

test('read cache: an entry larger than the whole ring is not kept, and breaks nothing', () => {
  const cache = new ReadReplyCache({ entries: 4, bytes: 64, now: () => 0 });
  cache.remember('192.0.2.1', 5000, 1, bytes('r1'), bytes('small'));
  cache.remember('192.0.2.1', 5000, 2, bytes('r2'), bytes('y'.repeat(100)));
  assert.equal(cache.lookup('192.0.2.1', 5000, 2, bytes('r2')), undefined);
  assert.deepEqual(cache.lookup('192.0.2.1', 5000, 1, bytes('r1')), bytes('small'));
});

test('read cache: under random use it returns exactly what was remembered, newest entries first to stay', () => {
  const operation = fc.record({
    source: fc.integer({ min: 0, max: 5 }),
    rq: fc.constantFrom(1, 2, 3, ...COLLIDING_RQ),
    requestLength: fc.integer({ min: 1, max: 120 }),
    replyLength: fc.integer({ min: 0, max: 400 }),
    fill: fc.integer({ min: 0, max: 255 }),
  });
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 200, size: 'max' }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 200, max: 3000 }), (operations, entries, size) => {
      const cache = new ReadReplyCache({ entries, bytes: size, now: () => 0 });
      // The model: per (ip, port, rq), the latest request and reply, in the order they were remembered.
      const latest = new Map<string, { ip: string; port: number; rq: number; request: Buffer; reply: Buffer; order: number }>();
      operations.forEach((op, order) => {
        const ip = op.source % 2 === 0 ? `192.0.2.${op.source}` : `2001:db8::${op.source}`;
        const port = 5000 + (op.source % 3);
        const request = Buffer.alloc(op.requestLength, op.fill);
        const reply = Buffer.alloc(op.replyLength, (op.fill + 1) % 256);
        cache.remember(ip, port, op.rq, request, reply);
        // An entry larger than the whole ring is not kept (and shadows nothing).
        const fits = ip.length + request.length + reply.length <= size;
        if (fits) latest.set(`${ip}|${port}|${op.rq}`, { ip, port, rq: op.rq, request, reply, order });
        const byAge = [...latest.values()].sort((a, b) => a.order - b.order);
        const found = byAge.map((e) => cache.lookup(e.ip, e.port, e.rq, e.request));
        found.forEach((hit, i) => {
          if (hit) assert.deepEqual(hit, byAge[i]!.reply, 'a hit is exactly the reply remembered');
        });
        if (fits) assert.ok(found.at(-1), 'the newest entry is kept');
        const firstKept = found.findIndex(Boolean);
        if (firstKept >= 0) assert.ok(found.slice(firstKept).every(Boolean), 'entries leave oldest first');
        assert.ok(cache.size <= entries);
      });
    }),
    { numRuns: 300 },
  );
});
