// The pieces root: a BEP 52 style Merkle tree over a file's pieces, so a downloader can prove each
// piece correct against the root the index lists, whoever sent it. A leaf binds the piece's bytes to
// their place in the file (its byte offset), so a holder can neither swap pieces nor shift them.
import { createHash } from 'node:crypto';

/** Chunks per piece: 256 × 200 characters, 37.5 KiB of binary or 50 to 200 KiB of text. */
export const CHUNKS_PER_PIECE = 256;

export const HASH_BYTES = 32;

/** The padding leaf of BEP 52: a tree over n leaves is completed to a power of two with these. */
const ZERO_LEAF = Buffer.alloc(HASH_BYTES);

/** The piece that holds chunk `chunk` (both from the wire: chunks from 1, pieces from 0). */
export const pieceOfChunk = (chunk: number): number => Math.floor((chunk - 1) / CHUNKS_PER_PIECE);

/** First chunk number of a piece. */
export const firstChunkOf = (piece: number): number => piece * CHUNKS_PER_PIECE + 1;

/** How many pieces a file of `chunks` chunks has. */
export const pieceCount = (chunks: number): number => Math.ceil(chunks / CHUNKS_PER_PIECE);

/** How many chunks piece `piece` of a file of `chunks` chunks holds. */
export const chunksInPiece = (piece: number, chunks: number): number => Math.min(CHUNKS_PER_PIECE, chunks - piece * CHUNKS_PER_PIECE);

/** A leaf hashes the piece's byte offset, as this many bytes big-endian, then the piece's bytes. */
export const LEAF_PREFIX_BYTES = 8;

/** Writes a leaf's offset prefix at out[at..at + 8). */
export function writeLeafPrefix(offset: number, out: DataView, at: number): void {
  out.setUint32(at, Math.floor(offset / 2 ** 32));
  out.setUint32(at + 4, offset >>> 0);
}

/** A leaf hash in the making: the piece's offset, then its bytes as they come. */
export function startLeaf(offset: number): ReturnType<typeof createHash> {
  const prefix = Buffer.allocUnsafe(LEAF_PREFIX_BYTES);
  writeLeafPrefix(offset, new DataView(prefix.buffer, prefix.byteOffset, LEAF_PREFIX_BYTES), 0);
  return createHash('sha256').update(prefix);
}

const node = (left: Buffer, right: Buffer): Buffer => createHash('sha256').update(left).update(right).digest();

/** Every layer of the tree, leaves first (padded to a power of two), root last. */
function layers(leaves: readonly Buffer[]): Buffer[][] {
  let width = 1;
  while (width < leaves.length) width *= 2;
  const bottom = Array.from({ length: width }, (_, i) => leaves[i] ?? ZERO_LEAF);
  const all = [bottom];
  for (let layer = bottom; layer.length > 1; ) {
    const up: Buffer[] = [];
    for (let i = 0; i < layer.length; i += 2) up.push(node(layer[i]!, layer[i + 1]!));
    all.push(up);
    layer = up;
  }
  return all;
}

/** The tree of one file version: its root and, for the sender, each piece's proof. */
export class PieceTree {
  private readonly tree: Buffer[][];

  constructor(
    /** Leaf hash of each piece. */
    readonly leaves: readonly Buffer[],
    /** Byte offset of each piece, and the file size after the last. */
    readonly offsets: readonly number[],
  ) {
    if (leaves.length === 0 || offsets.length !== leaves.length + 1) throw new RangeError('a piece tree needs one leaf per piece and one offset more');
    this.tree = layers(leaves);
  }

  get root(): string {
    return this.tree[this.tree.length - 1]![0]!.toString('hex');
  }

  get pieces(): number {
    return this.leaves.length;
  }

  /** Sibling hashes from the piece's leaf up to (not including) the root, as hex. */
  proof(piece: number): string[] {
    const proof: string[] = [];
    let index = piece;
    for (let level = 0; level < this.tree.length - 1; level++, index >>= 1) proof.push(this.tree[level]![index ^ 1]!.toString('hex'));
    return proof;
  }
}

/** Levels above the leaves in the tree of a file with `pieces` pieces: the length of every proof. */
export function treeDepth(pieces: number): number {
  let depth = 0;
  while (2 ** depth < pieces) depth++;
  return depth;
}

/**
 * Whether `leaf` is piece `piece` of a file of `pieces` pieces with root `root`, given the sibling
 * hashes. The proof must be exactly as long as the tree is deep: a shorter one would let a sender
 * pass an inner node off as a leaf.
 */
export function verifyProof(leaf: Buffer, piece: number, pieces: number, proof: readonly string[], root: string): boolean {
  if (proof.length !== treeDepth(pieces) || piece >= pieces) return false;
  let hash = leaf;
  let index = piece;
  for (const sibling of proof) {
    const other = Buffer.from(sibling, 'hex');
    hash = index & 1 ? node(other, hash) : node(hash, other);
    index >>= 1;
  }
  return index === 0 && hash.toString('hex') === root;
}
