// Group commit on its own, against a fake store whose commits the test opens and closes by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Batch } from '../../src/stores/batch.js';
import { GroupCommitter, MAX_GROUP_CHARS } from '../../src/stores/group-commit.js';
import { isStoreError } from './helpers/store-contract.js';

/** A fake store: records every batch; each commit waits until the test settles it. */
function fakeStore() {
  const commits: Array<{ batch: Batch; resolve: () => void; reject: (error: Error) => void }> = [];
  let announce: (() => void) | undefined;
  return {
    commits,
    commit(batch: Batch): Promise<void> {
      return new Promise((resolve, reject) => {
        commits.push({ batch, resolve, reject });
        announce?.();
      });
    },
    /** Resolves when the store has received its `count`-th commit. */
    async received(count: number): Promise<void> {
      while (commits.length < count) await new Promise<void>((resolve) => (announce = resolve));
    },
  };
}

const put = (key: string, n: number) => ({ op: 'put' as const, key, record: JSON.stringify({ value: n }) });

test('the writes of one turn are one commit, and resolve only once it is done', async () => {
  const store = fakeStore();
  const writes = new GroupCommitter((batch) => store.commit(batch), 5000, 'fake');
  let resolved = 0;
  const all = Array.from({ length: 1000 }, (_, n) => writes.submit(put(`k${n}`, n)).then(() => (resolved += 1)));
  await store.received(1);
  assert.equal(store.commits[0]!.batch.puts.size, 1000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(resolved, 0, 'no write may resolve before its commit');
  store.commits[0]!.resolve();
  await Promise.all(all);
  assert.equal(resolved, 1000);
  assert.equal(store.commits.length, 1);
});

test('writes issued during a commit form the next group, committed only after it', async () => {
  const store = fakeStore();
  const writes = new GroupCommitter((batch) => store.commit(batch), 5000, 'fake');
  const first = writes.submit(put('a', 1));
  await store.received(1);
  const second = [writes.submit(put('b', 2)), writes.submit(put('a', 3))];
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(store.commits.length, 1, 'commits never overlap');
  store.commits[0]!.resolve();
  await first;
  await store.received(2);
  assert.deepEqual([...store.commits[1]!.batch.puts.keys()], ['b', 'a']);
  store.commits[1]!.resolve();
  await Promise.all(second);
});

test('a failed commit rejects every write of its group, and the next group still commits', async () => {
  const store = fakeStore();
  const writes = new GroupCommitter((batch) => store.commit(batch), 5000, 'fake://store [ns]');
  const failed = [writes.submit(put('a', 1)), writes.submit({ op: 'delete', key: 'b' })];
  await store.received(1);
  const next = writes.submit(put('c', 2));
  store.commits[0]!.reject(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' }));
  for (const write of failed) {
    await assert.rejects(write, isStoreError('STORE_FAILED', /^fake:\/\/store \[ns\]: commit of 2 write\(s\) failed: disk I\/O error$/));
  }
  await store.received(2);
  store.commits[1]!.resolve();
  await next;
});

test('a commit that could not reach the store rejects with STORE_UNAVAILABLE', async () => {
  const store = fakeStore();
  const writes = new GroupCommitter((batch) => store.commit(batch), 5000, 'fake');
  const write = writes.submit(put('a', 1));
  await store.received(1);
  store.commits[0]!.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
  await assert.rejects(write, isStoreError('STORE_UNAVAILABLE', /ECONNREFUSED/));
});

test('a stuck commit past its deadline may still land; a group behind it is rejected and never written', async () => {
  const store = fakeStore();
  const writes = new GroupCommitter((batch) => store.commit(batch), 50, 'fake');
  const stuck = writes.submit(put('a', 1));
  await store.received(1);
  const late = writes.submit(put('b', 2));
  await Promise.all([
    assert.rejects(stuck, isStoreError('STORE_UNCONFIRMED', /1 write\(s\) not confirmed within 50 ms; they may still be applied/)),
    assert.rejects(late, isStoreError('STORE_UNAVAILABLE', /1 write\(s\) not committed within 50 ms/)),
  ]);
  store.commits[0]!.resolve();
  await writes.settled();
  assert.equal(store.commits.length, 1, 'the expired group must not be committed later');
  const after = writes.submit(put('c', 3));
  await store.received(2);
  store.commits[1]!.resolve();
  await after;
});

test(`a group is sealed at ${MAX_GROUP_CHARS} characters, and the rest goes to the next group`, async () => {
  const store = fakeStore();
  const writes = new GroupCommitter((batch) => store.commit(batch), 5000, 'fake');
  const record = 'x'.repeat(MAX_GROUP_CHARS / 4);
  const all = Array.from({ length: 6 }, (_, n) => writes.submit({ op: 'put', key: `k${n}`, record }));
  await store.received(1);
  assert.equal(store.commits[0]!.batch.puts.size, 4);
  store.commits[0]!.resolve();
  await store.received(2);
  assert.equal(store.commits[1]!.batch.puts.size, 2);
  store.commits[1]!.resolve();
  await Promise.all(all);
});
