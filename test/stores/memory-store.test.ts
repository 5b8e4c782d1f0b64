import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { openStore } from '../../src/stores/index.js';
import { storeContract } from './helpers/store-contract.js';

storeContract('memory', { url: `memory://contract-${randomBytes(4).toString('hex')}` });

test('memory:// without a name gives each open a private map', async () => {
  const first = await openStore<number>('memory://', 'ns');
  const second = await openStore<number>('memory://', 'ns');
  await first.set('k', 1);
  assert.equal(await second.get('k'), undefined);
  assert.equal(first.description, 'memory://');
});

test('memory://name is one map per name and namespace, outliving close()', async () => {
  const name = `shared-${randomBytes(4).toString('hex')}`;
  const writer = await openStore<number>(`memory://${name}`, 'ns');
  await writer.set('k', 1);
  await writer.close();
  const reader = await openStore<number>(`memory://${name}`, 'ns');
  const otherNamespace = await openStore<number>(`memory://${name}`, 'other');
  const otherName = await openStore<number>(`memory://${name}-2`, 'ns');
  assert.equal(await reader.get('k'), 1);
  assert.equal(await otherNamespace.get('k'), undefined);
  assert.equal(await otherName.get('k'), undefined);
});
