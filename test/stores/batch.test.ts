import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addToBatch, emptyBatch, type Mutation } from '../../src/stores/batch.js';

function fold(mutations: Mutation[]) {
  const batch = emptyBatch();
  for (const mutation of mutations) addToBatch(batch, mutation);
  return { clear: batch.clear, deletes: [...batch.deletes], puts: Object.fromEntries(batch.puts) };
}

test('the last write to a key wins, whether a put or a delete', () => {
  assert.deepEqual(
    fold([
      { op: 'put', key: 'a', record: '1' },
      { op: 'put', key: 'a', record: '2' },
      { op: 'put', key: 'b', record: '3' },
      { op: 'delete', key: 'b' },
      { op: 'delete', key: 'c' },
      { op: 'put', key: 'c', record: '4' },
    ]),
    { clear: false, deletes: ['b'], puts: { a: '2', c: '4' } },
  );
});

test('a clear forgets the writes before it and keeps those after it', () => {
  assert.deepEqual(
    fold([
      { op: 'put', key: 'a', record: '1' },
      { op: 'delete', key: 'b' },
      { op: 'clear' },
      { op: 'put', key: 'c', record: '2' },
      { op: 'delete', key: 'd' },
    ]),
    { clear: true, deletes: [], puts: { c: '2' } },
  );
});
