import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../../src/stores/index.js';
import { parseStoreUrl, redactUrl } from '../../src/stores/store-url.js';
import { isStoreError } from './helpers/store-contract.js';

test('each accepted scheme picks its store', () => {
  assert.deepEqual(parseStoreUrl('sqlite://data/registry.sqlite'), { kind: 'sqlite', path: 'data/registry.sqlite' });
  assert.deepEqual(parseStoreUrl('sqlite:///var/lib/p2fs/registry.sqlite'), { kind: 'sqlite', path: '/var/lib/p2fs/registry.sqlite' });
  assert.deepEqual(parseStoreUrl('memory://'), { kind: 'memory', name: undefined });
  assert.deepEqual(parseStoreUrl('memory://restart-test'), { kind: 'memory', name: 'restart-test' });
  const network = (url: string) => {
    const target = parseStoreUrl(url);
    assert.ok('url' in target);
    return [target.kind, target.url.href];
  };
  assert.deepEqual(network('postgres://u:p@db:5432/app'), ['postgres', 'postgres://u:p@db:5432/app']);
  assert.deepEqual(network('postgresql://db/app'), ['postgres', 'postgresql://db/app']);
  assert.deepEqual(network('redis://cache:6379'), ['redis', 'redis://cache:6379']);
  assert.deepEqual(network('mysql://root@db/app'), ['mysql', 'mysql://root@db/app']);
  assert.deepEqual(network('mariadb://root@db/app'), ['mysql', 'mysql://root@db/app']);
});

test('a bad URL is STORE_URL_INVALID, naming the URL and the accepted schemes', () => {
  const cases: Array<[string, RegExp]> = [
    ['ftp://host/file', /unknown scheme "ftp:"/],
    ['data/registry.sqlite', /not a URL/],
    ['sqlite://', /no file path/],
    ['postgres:///app', /no host/],
  ];
  for (const [url, problem] of cases) {
    assert.throws(() => parseStoreUrl(url), isStoreError('STORE_URL_INVALID', problem));
    assert.throws(() => parseStoreUrl(url), isStoreError('STORE_URL_INVALID', new RegExp(`"${url}".*accepted: sqlite://`)));
  }
});

test('passwords never reach a message or a description', async () => {
  assert.equal(redactUrl('postgres://user:s3cret@db:5432/app'), 'postgres://user:***@db:5432/app');
  assert.equal(redactUrl('redis://:s3cret@cache:6379'), 'redis://:***@cache:6379');
  assert.equal(redactUrl('mysql://db/app?user=u&password=s3cret'), 'mysql://db/app?user=u&password=***');
  assert.equal(redactUrl('sqlite://data/registry.sqlite'), 'sqlite://data/registry.sqlite');
  await assert.rejects(openStore('pgsql://user:s3cret@db/app', 'ns'), (error: Error) => {
    assert.match(error.message, /pgsql:\/\/user:\*\*\*@db\/app/);
    assert.doesNotMatch(error.message, /s3cret/);
    return true;
  });
});

test('a namespace that is not a plain name is refused', async () => {
  for (const namespace of ['', 'a:b', 'a*', 'a%', 'has space']) {
    await assert.rejects(openStore('memory://', namespace), TypeError);
  }
});
