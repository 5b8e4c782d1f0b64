// The piece decoder's reusable slabs: a slab is decoded into again only after the decoder moved on
// from it and every piece handed out from it was released, so a piece held on to keeps its bytes
// whatever is decoded after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PieceDecoder, type ReceivedPiece } from '../../src/transfer/codec/piece-decoder.js';
import { SlabPool } from '../../src/transfer/codec/slabs.js';
import { BASE64_CHUNK_BYTES, CHUNK_CHARS } from '../../src/transfer/limits.js';
import { countCodePoints } from '../../src/transfer/codec/utf8.js';
import { CHUNKS_PER_PIECE } from '../../src/transfer/pieces/merkle.js';
import { rangedReply } from './helpers.js';

test('a slab is reused only once retired and every piece from it released; a second release counts once', () => {
  const pool = new SlabPool(1024, 1);
  const first = pool.take();
  const releaseA = pool.handOut(first);
  const releaseB = pool.handOut(first);
  pool.retire(first);
  const second = pool.take();
  assert.notEqual(second, first, 'a slab with pieces out was reused');
  releaseA();
  releaseA();
  assert.notEqual(pool.take(), first, 'a second release of one piece freed a slab whose other piece is still out');
  releaseB();
  assert.equal(pool.take(), first);

  const unretired = pool.take();
  pool.handOut(unretired)();
  assert.notEqual(pool.take(), unretired, 'a slab the decoder still writes into was reused');

  const extra = [pool.take(), pool.take()];
  for (const slab of extra) pool.retire(slab);
  const taken = [pool.take(), pool.take()];
  assert.equal(taken.filter((slab) => extra.includes(slab)).length, 1, 'more idle slabs were kept than the pool allows');
});

/**
 * Decodes a whole ranged reply in socket-sized blocks; pieces `hold` picks are kept, the rest
 * released at once. Every piece must be byte-exact when it arrives, and the held ones still at the end.
 */
function decodeAll(data: Buffer, encoding: 'utf8' | 'base64', pieceBytes: number, hold: (piece: number) => boolean): { held: number; slabs: number } {
  const file = 'big.bin';
  const rq = 9;
  const bytes = rangedReply(data, encoding, pieceBytes, file, rq);
  const chunks = encoding === 'base64' ? Math.ceil(data.length / BASE64_CHUNK_BYTES) : Math.ceil(countCodePoints(data) / CHUNK_CHARS);
  const pieces = Math.ceil(data.length / pieceBytes);
  const decoder = new PieceDecoder({ file, chunks });
  decoder.expect(rq, 0, pieces - 1);
  const held: ReceivedPiece[] = [];
  const slabs = new Set<ArrayBufferLike>();
  for (let at = 0; at < bytes.length; at += 65_536) {
    for (const piece of decoder.push(bytes.subarray(at, at + 65_536))) {
      slabs.add(piece.data.buffer);
      assert.deepEqual(piece.data, data.subarray(piece.offset, piece.offset + pieceBytes), `piece ${piece.piece} as decoded`);
      if (hold(piece.piece)) held.push(piece);
      else piece.release();
    }
  }
  for (const piece of held) assert.deepEqual(piece.data, data.subarray(piece.offset, piece.offset + pieceBytes), `piece ${piece.piece}, held while later pieces were decoded`);
  return { held: held.length, slabs: slabs.size };
}

test('pieces held on to keep their bytes while later pieces reuse the slabs of released ones', () => {
  const pieceBytes = CHUNKS_PER_PIECE * BASE64_CHUNK_BYTES;
  const pieces = 60;
  const data = randomBytes(pieces * pieceBytes - 1000);
  const everyPieceHeld = decodeAll(data, 'base64', pieceBytes, () => true);
  assert.equal(everyPieceHeld.held, pieces);
  const twoHeld = decodeAll(data, 'base64', pieceBytes, (piece) => piece === 0 || piece === 30);
  assert.equal(twoHeld.held, 2);
  assert.ok(everyPieceHeld.slabs >= 5, `${everyPieceHeld.slabs} slabs for ${pieces} pieces: too few for the test to show reuse`);
  assert.ok(twoHeld.slabs <= 4, `${twoHeld.slabs} slabs (${everyPieceHeld.slabs} with no piece released): released slabs were not reused`);
});

test('the largest pieces (four-byte characters only) each go whole into a slab of their own', () => {
  const pieceBytes = CHUNKS_PER_PIECE * CHUNK_CHARS * 4;
  const data = Buffer.from('😀'.repeat((5 * pieceBytes) / 4 - 7));
  const everyPieceHeld = decodeAll(data, 'utf8', pieceBytes, () => true);
  assert.equal(everyPieceHeld.slabs, 5, `${everyPieceHeld.slabs} slabs for 5 pieces of ${pieceBytes} bytes, none released`);
  const evenHeld = decodeAll(data, 'utf8', pieceBytes, (piece) => piece % 2 === 0);
  assert.equal(evenHeld.held, 3);
  assert.equal(evenHeld.slabs, 3, 'the slabs of released pieces are reused');
});
