// Whether a received piece is the publisher's: its leaf (offset and bytes) proven up to the pieces
// root the index lists. The holder's word counts for nothing; a wrong offset fails like wrong bytes.
// Every node a proof establishes is remembered, so the next piece's proof stops as soon as it meets
// one: a piece next to a verified one costs one hash above its leaf instead of the tree's depth.
import { hash } from 'node:crypto';
import { HASH_BYTES, LEAF_PREFIX_BYTES, treeDepth } from './merkle.js';

export interface PieceClaim {
  piece: number;
  proof: readonly string[];
  /**
   * What the leaf hashes, in one run of memory: the piece's claimed byte offset (LEAF_PREFIX_BYTES,
   * big-endian), then its bytes. One call hashes it, with no hash object per piece.
   */
  leaf: Uint8Array;
}

export class PieceVerifier {
  private readonly depth: number;
  /** Nodes by heap index (root 1, children of i at 2i and 2i + 1, leaves from `width` on). */
  private readonly nodes: Buffer;
  private readonly known: Uint8Array;
  private readonly width: number;
  /** Two sibling hashes side by side: what their parent hashes. */
  private readonly pair = Buffer.allocUnsafe(2 * HASH_BYTES);

  constructor(
    root: string,
    private readonly pieces: number,
  ) {
    this.depth = treeDepth(pieces);
    this.width = 2 ** this.depth;
    this.nodes = Buffer.alloc(2 * this.width * HASH_BYTES);
    this.known = new Uint8Array(2 * this.width);
    Buffer.from(root, 'hex').copy(this.nodes, HASH_BYTES);
    this.known[1] = 1;
  }

  verifies(claim: PieceClaim): boolean {
    if (claim.proof.length !== this.depth || !Number.isInteger(claim.piece) || claim.piece < 0 || claim.piece >= this.pieces) return false;
    if (claim.leaf.length < LEAF_PREFIX_BYTES) return false;
    let node = hash('sha256', claim.leaf, 'buffer');
    const learned: Array<[number, Buffer]> = [];
    for (let index = this.width + claim.piece, level = 0; ; index >>= 1, level++) {
      if (this.known[index]) {
        if (!node.equals(this.nodeAt(index))) return false;
        // Everything on the way up (and the siblings that led there) is now proven too.
        for (const [at, value] of learned) this.learn(at, value);
        return true;
      }
      if (index === 1) return false; // the root is always known: unreachable
      const sibling = Buffer.from(claim.proof[level]!, 'hex');
      learned.push([index, node], [index ^ 1, sibling]);
      (index & 1 ? sibling : node).copy(this.pair, 0);
      (index & 1 ? node : sibling).copy(this.pair, HASH_BYTES);
      node = hash('sha256', this.pair, 'buffer');
    }
  }

  private nodeAt(index: number): Buffer {
    return this.nodes.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES);
  }

  private learn(index: number, value: Buffer): void {
    value.copy(this.nodes, index * HASH_BYTES);
    this.known[index] = 1;
  }
}
