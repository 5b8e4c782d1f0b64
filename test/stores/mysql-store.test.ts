import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openStore } from '../../src/stores/index.js';
import { networkFailures } from './helpers/network-failures.js';
import { service } from './helpers/services.js';
import { isStoreError, storeContract, uniqueNamespace } from './helpers/store-contract.js';

const mariadb = await service('MariaDB', 'P2FS_TEST_MYSQL_URL', 'mysql://root@127.0.0.1:3306/test');
storeContract(mariadb.name, mariadb);
networkFailures(mariadb);

describe('MariaDB store: adapter limits', { skip: mariadb.skip }, () => {
  test('mariadb:// is served as mysql://, and describes itself as given', async () => {
    const url = mariadb.url.replace(/^mysql:/, 'mariadb:');
    const store = await openStore<number>(url, uniqueNamespace());
    await store.set('k', 1);
    assert.equal(await store.get('k'), 1);
    assert.equal(store.description, url);
    await store.clear();
    await store.close();
  });

  test('a second MySQL URL is refused while the first is open (the adapter has one pool per process)', async () => {
    const store = await openStore<number>(mariadb.url, uniqueNamespace());
    const other = new URL(mariadb.url);
    other.hostname = 'localhost';
    await assert.rejects(
      openStore<number>(other.href, uniqueNamespace()),
      isStoreError('STORE_UNAVAILABLE', /one connection pool per process/),
    );
    await store.close();
    const afterwards = await openStore<number>(other.href, uniqueNamespace());
    await afterwards.close();
  });
});
