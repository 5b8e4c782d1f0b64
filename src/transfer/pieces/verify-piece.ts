// Whether a received piece is the publisher's: its leaf (offset and bytes) proven up to the pieces
// root the index lists. The holder's word counts for nothing; a wrong offset fails like wrong bytes.
import { startLeaf, verifyProof } from './merkle.js';

export interface PieceClaim {
  piece: number;
  offset: number;
  proof: readonly string[];
  data: Uint8Array;
}

export function pieceVerifies(claim: PieceClaim, root: string, pieces: number): boolean {
  return verifyProof(startLeaf(claim.offset).update(claim.data).digest(), claim.piece, pieces, claim.proof, root);
}
