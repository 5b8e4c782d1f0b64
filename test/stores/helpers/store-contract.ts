// The behaviour every store must show, run against each of them: the same assertions on memory,
// SQLite and the real PostgreSQL, Redis and MariaDB, so that a test on memory predicts production.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import { openStore, StoreError, type DurableMap } from '../../../src/stores/index.js';

interface Value {
  n: number;
  tags?: string[];
}

export function uniqueNamespace(): string {
  return `test-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export function isStoreError(code: StoreError['code'], pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof StoreError, `expected a StoreError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  };
}

/** The store's entries as a plain object, for one deepEqual against the expected state. */
async function contents(store: DurableMap<Value>): Promise<Record<string, Value>> {
  return Object.fromEntries(await store.entries());
}

export function storeContract(label: string, target: { url: string; skip?: string | undefined }): void {
  describe(`${label} store: DurableMap contract`, { skip: target.skip }, () => {
    /** A store on a namespace of its own, emptied and closed after the test. */
    async function freshStore(t: TestContext, namespace = uniqueNamespace()): Promise<DurableMap<Value>> {
      const store = await openStore<Value>(target.url, namespace);
      t.after(async () => {
        await store.close(); // a no-op when the test closed it already
        const wipe = await openStore<Value>(target.url, namespace);
        await wipe.clear();
        await wipe.close();
      });
      return store;
    }

    test('set, get, delete and entries round-trip', async (t) => {
      const store = await freshStore(t);
      await store.set('a', { n: 1, tags: ['x', 'y'] });
      await store.set('b', { n: 2 });
      await store.set('a', { n: 3 });
      assert.deepEqual(await store.get('a'), { n: 3 });
      assert.equal(await store.get('missing'), undefined);
      await store.delete('b');
      await store.delete('never-set');
      assert.equal(await store.get('b'), undefined);
      assert.deepEqual(await contents(store), { a: { n: 3 } });
      await store.clear();
      assert.deepEqual(await store.entries(), []);
    });

    test('a value is copied when set: changing the object afterwards changes nothing stored', async (t) => {
      const store = await freshStore(t);
      const value: Value = { n: 1, tags: ['before'] };
      const written = store.set('k', value);
      value.tags!.push('after');
      await written;
      assert.deepEqual(await store.get('k'), { n: 1, tags: ['before'] });
    });

    test('keys are stored exactly: case, the namespace prefix, wildcards, quotes, non-ASCII', async (t) => {
      const namespace = uniqueNamespace();
      const store = await freshStore(t, namespace);
      const keys = ['Key', 'key', 'KEY', 'x', `${namespace}:x`, 'a%', 'a_', 'a*', 'a?', "it's", 'a\\b', 'ключ', ''];
      await Promise.all(keys.map((key, n) => store.set(key, { n })));
      assert.deepEqual(await contents(store), Object.fromEntries(keys.map((key, n) => [key, { n }])));
      for (const [n, key] of keys.entries()) assert.deepEqual(await store.get(key), { n }, `get(${JSON.stringify(key)})`);
    });

    test('namespaces are isolated, also when one name starts with the other', async (t) => {
      const namespace = uniqueNamespace();
      const first = await freshStore(t, namespace);
      const second = await freshStore(t, `${namespace}x`);
      await Promise.all([first.set('k', { n: 1 }), second.set('k', { n: 2 }), second.set('only-second', { n: 3 })]);
      assert.deepEqual(await contents(first), { k: { n: 1 } });
      await first.clear();
      assert.deepEqual(await contents(first), {});
      assert.deepEqual(await contents(second), { k: { n: 2 }, 'only-second': { n: 3 } });
    });

    test('entries() returns every entry of 12,000', async (t) => {
      const store = await freshStore(t);
      const count = 12_000;
      await Promise.all(Array.from({ length: count }, (_, n) => store.set(`key-${n}`, { n })));
      const entries = await store.entries();
      assert.equal(entries.length, count);
      const byKey = new Map(entries);
      for (let n = 0; n < count; n++) assert.deepEqual(byKey.get(`key-${n}`), { n });
    });

    test('1,000 concurrent sets all resolve, and all are stored', async (t) => {
      const store = await freshStore(t);
      const settled = await Promise.allSettled(Array.from({ length: 1000 }, (_, n) => store.set(`k${n}`, { n })));
      assert.deepEqual(settled.filter((result) => result.status === 'rejected'), []);
      assert.deepEqual(await contents(store), Object.fromEntries(Array.from({ length: 1000 }, (_, n) => [`k${n}`, { n }])));
    });

    test('within one group, the last write to a key wins', async (t) => {
      const store = await freshStore(t);
      await Promise.all([store.set('kept', { n: 0 }), store.set('deleted-then-set', { n: 0 })]);
      await Promise.all([
        store.set('rewritten', { n: 1 }),
        store.set('rewritten', { n: 2 }),
        store.set('rewritten', { n: 3 }),
        store.set('set-then-deleted', { n: 1 }),
        store.delete('set-then-deleted'),
        store.delete('deleted-then-set'),
        store.set('deleted-then-set', { n: 4 }),
      ]);
      assert.deepEqual(await contents(store), { kept: { n: 0 }, rewritten: { n: 3 }, 'deleted-then-set': { n: 4 } });

      await Promise.all([store.set('before-clear', { n: 5 }), store.clear(), store.set('after-clear', { n: 6 })]);
      assert.deepEqual(await contents(store), { 'after-clear': { n: 6 } });
    });

    test('a read sees the writes issued before it, even when they were not awaited', async (t) => {
      const store = await freshStore(t);
      const written = store.set('k', { n: 1 });
      assert.deepEqual(await store.get('k'), { n: 1 });
      const deleted = store.delete('k');
      assert.deepEqual(await store.entries(), []);
      await Promise.all([written, deleted]);
    });

    test('what was written is there after close() and a new open', async (t) => {
      const namespace = uniqueNamespace();
      const store = await freshStore(t, namespace);
      await store.set('first', { n: 1 });
      const last = store.set('last', { n: 2 });
      await store.close(); // commits the write still pending
      await last;
      const reopened = await freshStore(t, namespace);
      assert.deepEqual(await contents(reopened), { first: { n: 1 }, last: { n: 2 } });
    });

    test('calls after close() reject with STORE_FAILED', async (t) => {
      const store = await freshStore(t);
      await store.close();
      await assert.rejects(store.set('k', { n: 1 }), isStoreError('STORE_FAILED', /set\(\) called after close\(\)/));
      await assert.rejects(store.get('k'), isStoreError('STORE_FAILED', /after close\(\)/));
      await assert.rejects(store.entries(), isStoreError('STORE_FAILED', /after close\(\)/));
      await store.close();
    });

    test('a key too long or a value that is not JSON fails only its own call', async (t) => {
      const namespace = uniqueNamespace();
      const store = await freshStore(t, namespace);
      const longest = 'k'.repeat(255 - namespace.length - 1);
      const results = await Promise.allSettled([
        store.set(`${longest}k`, { n: 1 }),
        store.set('big-int', { n: 10n } as unknown as Value),
        store.set('undefined', undefined as unknown as Value),
        store.set(longest, { n: 2 }),
      ]);
      assert.deepEqual(
        results.map((result) => (result.status === 'rejected' ? (result.reason as Error).name : 'ok')),
        ['RangeError', 'TypeError', 'TypeError', 'ok'],
      );
      assert.deepEqual(await contents(store), { [longest]: { n: 2 } });
    });
  });
}
