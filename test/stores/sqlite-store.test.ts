import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import KeyvSqlite from '@keyv/sqlite';
import { openStore } from '../../src/stores/index.js';
import { openSqliteBackend } from '../../src/stores/sqlite-backend.js';
import { isStoreError, storeContract, uniqueNamespace } from './helpers/store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'p2fs-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

storeContract('SQLite', { url: `sqlite://${join(dir, 'contract.sqlite')}` });

test('WAL, synchronous=NORMAL and the busy timeout are in force on the store’s connection', async () => {
  const path = join(dir, 'pragmas.sqlite');
  const backend = await openSqliteBackend(path, uniqueNamespace(), 4000);
  assert.deepEqual(await backend.pragmas(), { journalMode: 'wal', synchronous: 'normal', busyTimeoutMs: 2000 });
  await backend.close();
  // WAL is a property of the file: another connection sees it too.
  const other = new KeyvSqlite({ uri: `sqlite://${path}` });
  assert.deepEqual(await other.query('PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
  await other.close();
});

test('missing parent directories are created', async () => {
  const path = join(dir, 'a', 'b', 'nested.sqlite');
  const store = await openStore<number>(`sqlite://${path}`, uniqueNamespace());
  await store.set('k', 1);
  await store.close();
  assert.ok(existsSync(path));
});

test('a path under a regular file fails to open with STORE_UNAVAILABLE naming the URL', async () => {
  const file = join(dir, 'not-a-directory');
  writeFileSync(file, '');
  const url = `sqlite://${join(file, 'db.sqlite')}`;
  await assert.rejects(
    openStore(url, uniqueNamespace()),
    isStoreError('STORE_UNAVAILABLE', new RegExp(`^${url} .*could not open: (EEXIST|ENOTDIR)`)),
  );
});

test('while another connection holds the write lock, writes reject with STORE_UNAVAILABLE, then recover', async () => {
  const path = join(dir, 'locked.sqlite');
  const store = await openStore<number>(`sqlite://${path}`, uniqueNamespace(), { timeoutMs: 400 });
  await store.set('before', 1);
  const holder = new KeyvSqlite({ uri: `sqlite://${path}` });
  await holder.query('BEGIN EXCLUSIVE');
  await assert.rejects(store.set('during', 2), isStoreError('STORE_UNAVAILABLE', /commit of 1 write\(s\) failed: SQLITE_BUSY/));
  await holder.query('ROLLBACK');
  await holder.close();
  await store.set('after', 3);
  assert.deepEqual(Object.fromEntries(await store.entries()), { before: 1, after: 3 });
  await store.close();
});
