// The .part file of a download by pieces: flushed to the device while the download goes on, so
// that the flush before the rename has little left, and nothing of the data is lost by it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PartFile } from '../../src/transfer/download/part-file.js';
import { PART_SYNC_AHEAD_BYTES } from '../../src/transfer/limits.js';
import { sha256, tempDir } from './helpers.js';

test('a growing .part file is flushed to the device as it grows, and commits byte-exact', async (t) => {
  const dir = await tempDir(t);
  const probe = await open(join(dir, 'probe'), 'w');
  const fileHandle = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
  await probe.close();
  const datasync = fileHandle.datasync;
  let flushes = 0;
  fileHandle.datasync = function (this: unknown) {
    flushes++;
    return datasync.call(this);
  };
  t.after(() => {
    fileHandle.datasync = datasync;
  });

  const pieceBytes = 1024 * 1024;
  const pieces = Array.from({ length: (3 * PART_SYNC_AHEAD_BYTES) / pieceBytes }, () => randomBytes(pieceBytes));
  const whole = Buffer.concat(pieces);
  const part = await PartFile.open(dir, 'big.bin', { size: whole.length, sha256: sha256(whole) }, { root: 'r'.repeat(64), count: pieces.length });
  // Out of order, as a swarm writes them.
  const order = pieces.map((_, i) => i).sort((a, b) => (a % 3) - (b % 3) || a - b);
  for (const piece of order) await part.writePiece(piece, piece * pieceBytes, pieces[piece]!);
  const flushedAhead = flushes;
  assert.ok(flushedAhead >= 1, `the .part file is flushed while it grows (flushes before the commit: ${flushedAhead})`);

  await part.commit(join(dir, 'big.bin'), false);
  assert.ok(flushes > flushedAhead, 'the commit flushes what is left before the rename');
  assert.equal(sha256(await readFile(join(dir, 'big.bin'))), sha256(whole));
});

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
