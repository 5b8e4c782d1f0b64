// What a peer publishes about a file, found in one streamed pass: its size, SHA-256, whether it is
// valid UTF-8 (then it travels as text), its chunk count and its piece tree. Piece boundaries depend
// on the encoding (256 chunks are 256 × 200 code points of text, or 256 × 150 bytes of binary), so
// the pass cuts pieces as text while the file is still valid UTF-8; a file found not to be re-reads
// only the part already passed (for binary files, usually the first block).
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { ChunkEncoding } from '../codec/layout.js';
import { isContinuationByte, leadBytes, Utf8StreamCheck } from '../codec/utf8.js';
import { BASE64_CHUNK_BYTES, CHUNK_CHARS, SCAN_BLOCK_BYTES } from '../limits.js';
import { CHUNKS_PER_PIECE, PieceTree, startLeaf } from './merkle.js';

export interface FileFacts {
  size: number;
  sha256: string;
  utf8: boolean;
  /** The FILE-END chunk number: how many chunks the file travels in. */
  chunks: number;
  /** The Merkle root over the file's pieces (hex). */
  piecesRoot: string;
  /** The whole tree: what a sender needs for proofs and piece offsets. */
  tree: PieceTree;
}

/** Reads the file at `path` once, block by block (never whole into memory). */
export async function scanFile(path: string): Promise<FileFacts> {
  const handle = await open(path, 'r');
  try {
    return await scanHandle(handle);
  } finally {
    await handle.close();
  }
}

/** The facts of an open file, read from its start to its end. */
export async function scanHandle(handle: FileHandle): Promise<FileFacts> {
  const hash = createHash('sha256');
  const utf8 = new Utf8StreamCheck();
  const buffer = Buffer.allocUnsafe(SCAN_BLOCK_BYTES);
  let pieces: PieceCutter = new PieceCutter('utf8');
  let size = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, SCAN_BLOCK_BYTES, size);
    if (bytesRead === 0) break;
    const block = buffer.subarray(0, bytesRead);
    hash.update(block);
    if (pieces.encoding === 'utf8' && !utf8.push(block)) pieces = await binaryPiecesUpTo(handle, size);
    pieces.push(block);
    size += bytesRead;
  }
  if (pieces.encoding === 'utf8' && !utf8.end()) pieces = await binaryPiecesUpTo(handle, size);
  const { tree, chunks } = pieces.end(size);
  return { size, sha256: hash.digest('hex'), utf8: pieces.encoding === 'utf8', chunks, piecesRoot: tree.root, tree };
}

/** A binary piece cutter that has already seen bytes [0, end) of the file. */
async function binaryPiecesUpTo(handle: FileHandle, end: number): Promise<PieceCutter> {
  const pieces = new PieceCutter('base64');
  const buffer = Buffer.allocUnsafe(Math.min(SCAN_BLOCK_BYTES, Math.max(end, 1)));
  for (let position = 0; position < end; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - position), position);
    if (bytesRead === 0) throw new Error(`the file shrank to ${position} bytes while being read`);
    pieces.push(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return pieces;
}

/** Code points per text piece and bytes per binary piece. */
const TEXT_PIECE_CHARS = CHUNK_CHARS * CHUNKS_PER_PIECE;
const BINARY_PIECE_BYTES = BASE64_CHUNK_BYTES * CHUNKS_PER_PIECE;

/**
 * Cuts a byte stream into pieces and hashes each into its leaf. A piece starts only when its first
 * byte arrives, so a file that fills its last piece exactly has no empty piece after it.
 */
export class PieceCutter {
  private readonly leaves: Buffer[] = [];
  private readonly offsets: number[] = [0];
  private leaf: Hash = startLeaf(0);
  /** Units (code points or bytes) in the current piece, and in the file. */
  private inPiece = 0;
  private total = 0;
  private position = 0;
  private readonly perPiece: number;

  constructor(readonly encoding: ChunkEncoding) {
    this.perPiece = encoding === 'utf8' ? TEXT_PIECE_CHARS : BINARY_PIECE_BYTES;
  }

  push(block: Uint8Array): void {
    let at = 0;
    while (at < block.length) {
      const room = this.perPiece - this.inPiece;
      const cut = this.encoding === 'utf8' ? cutAfterCodePoints(block, at, room) : { end: Math.min(block.length, at + room), units: Math.min(block.length - at, room) };
      // A full piece still takes the continuation bytes of its last code point; the next starts at a lead byte.
      if (cut.end === at) {
        this.nextPiece(this.position + at);
        continue;
      }
      this.leaf.update(block.subarray(at, cut.end));
      this.inPiece += cut.units;
      this.total += cut.units;
      at = cut.end;
    }
    this.position += block.length;
  }

  /** The tree, once every byte of a file of `size` bytes was pushed. */
  end(size: number): { tree: PieceTree; chunks: number } {
    this.leaves.push(this.leaf.digest());
    this.offsets.push(size);
    const perChunk = this.encoding === 'utf8' ? CHUNK_CHARS : BASE64_CHUNK_BYTES;
    return { tree: new PieceTree(this.leaves, this.offsets), chunks: Math.max(1, Math.ceil(this.total / perChunk)) };
  }

  private nextPiece(offset: number): void {
    this.leaves.push(this.leaf.digest());
    this.offsets.push(offset);
    this.leaf = startLeaf(offset);
    this.inPiece = 0;
  }
}

/**
 * Advances over at most `room` code points of bytes[at..): stops before the lead byte of the next
 * one, or at the end of the block. Returns where it stopped and how many code points it passed.
 */
function cutAfterCodePoints(bytes: Uint8Array, at: number, room: number): { end: number; units: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let seen = 0;
  let i = at;
  // Four bytes at a time while a whole word surely fits in the room left.
  while (i + 4 <= bytes.length && room - seen >= 4) {
    seen += leadBytes(view.getUint32(i, true));
    i += 4;
  }
  for (; i < bytes.length; i++) {
    if (isContinuationByte(bytes[i]!)) continue;
    if (seen === room) return { end: i, units: seen };
    seen++;
  }
  return { end: i, units: seen };
}
