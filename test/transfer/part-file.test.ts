// The .part file of a download by pieces: every queued piece is written, whenever it is queued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PartFile } from '../../src/transfer/download/part-file.js';
import { tempDir } from './helpers.js';

test('a piece queued the moment the write before it resolves is written too', async (t) => {
  const dir = await tempDir(t);
  const pieces = [randomBytes(1000), randomBytes(1000), randomBytes(1000)];
  const whole = Buffer.concat(pieces);
  const part = await PartFile.open(dir, 'f.bin', { size: whole.length }, { root: 'r'.repeat(64), count: pieces.length });
  // Each write is queued in the first microtask after the one before it resolves.
  await part.writePiece(0, 0, pieces[0]!).then(() => part.writePiece(1, 1000, pieces[1]!)).then(() => part.writePiece(2, 2000, pieces[2]!));
  assert.ok(part.hasPiece(0) && part.hasPiece(1) && part.hasPiece(2));
  await part.commit(join(dir, 'f.bin'), false);
  assert.deepEqual(await readFile(join(dir, 'f.bin')), whole);
});
