// Which pieces each holder fetches next. A holder asks for a window of consecutive missing pieces;
// its window starts small and doubles with each window it completes (2 → 64 pieces), so a fast
// holder gets long ranges and a slow one never holds many pieces hostage. When no piece is left
// unasked, the pieces still in flight are asked of a second holder too (endgame): the first copy to
// verify wins, so a slow or stalled holder cannot hold the end back.
import { CHANGE_WAIT_MS, FIRST_WINDOW_PIECES, MAX_WINDOW_PIECES } from '../limits.js';

export interface Window {
  first: number;
  /** Inclusive. */
  last: number;
  /** Pieces of the window another holder was already fetching (endgame duplicates). */
  duplicate: boolean;
}

const MISSING = 0;
const IN_FLIGHT = 1;
const VERIFIED = 2;

export class PieceScheduler {
  private readonly status: Uint8Array;
  /** Holders fetching each in-flight piece. */
  private readonly fetching = new Map<number, Set<string>>();
  private readonly windows = new Map<string, number>();
  private verifiedCount = 0;
  /** The lowest piece that may still be missing: the search for work starts here. */
  private lowestMissing = 0;
  private waiters: Array<() => void> = [];

  constructor(
    readonly pieces: number,
    isVerified: (piece: number) => boolean = () => false,
  ) {
    this.status = new Uint8Array(pieces);
    for (let piece = 0; piece < pieces; piece++) {
      if (isVerified(piece)) {
        this.status[piece] = VERIFIED;
        this.verifiedCount++;
      }
    }
  }

  get complete(): boolean {
    return this.verifiedCount === this.pieces;
  }

  get verified(): number {
    return this.verifiedCount;
  }

  isVerified(piece: number): boolean {
    return this.status[piece] === VERIFIED;
  }

  /** The next window for `holder`, or undefined when every piece is verified or in flight at it. */
  next(holder: string): Window | undefined {
    const size = this.windows.get(holder) ?? FIRST_WINDOW_PIECES;
    while (this.lowestMissing < this.pieces && this.status[this.lowestMissing] !== MISSING) this.lowestMissing++;
    if (this.lowestMissing < this.pieces) {
      const first = this.lowestMissing;
      let last = first;
      while (last + 1 < this.pieces && last + 1 - first < size && this.status[last + 1] === MISSING) last++;
      for (let piece = first; piece <= last; piece++) this.take(piece, holder);
      return { first, last, duplicate: false };
    }
    // Endgame: the in-flight piece with the fewest holders on it, the latest first (the holder
    // fetching it in a window reaches it last).
    let best = -1;
    let fewest = Number.POSITIVE_INFINITY;
    for (const [piece, holders] of this.fetching) {
      if (holders.has(holder)) continue;
      if (holders.size < fewest || (holders.size === fewest && piece > best)) {
        best = piece;
        fewest = holders.size;
      }
    }
    if (best === -1) return undefined;
    this.take(best, holder);
    return { first: best, last: best, duplicate: true };
  }

  /** A verified piece from `holder`. Returns false when another copy verified first (discard it). */
  verify(piece: number, holder: string): boolean {
    this.fetching.get(piece)?.delete(holder);
    if (this.status[piece] === VERIFIED) return false;
    this.status[piece] = VERIFIED;
    this.fetching.delete(piece);
    this.verifiedCount++;
    this.changed();
    return true;
  }

  /** The holder completed its window: its next one is twice as long (up to the maximum). */
  windowDone(holder: string): void {
    this.windows.set(holder, Math.min(MAX_WINDOW_PIECES, (this.windows.get(holder) ?? FIRST_WINDOW_PIECES) * 2));
  }

  /** The holder stopped (failed, dropped or left): its unfinished pieces go back to the others. */
  release(holder: string): void {
    this.windows.delete(holder);
    for (const [piece, holders] of this.fetching) {
      if (!holders.delete(holder) || holders.size > 0) continue;
      this.fetching.delete(piece);
      this.status[piece] = MISSING;
      if (piece < this.lowestMissing) this.lowestMissing = piece;
    }
    this.changed();
  }

  /** Resolves when a piece verifies or pieces come free again (or after a while, to look again). */
  waitForChange(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, CHANGE_WAIT_MS);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private take(piece: number, holder: string): void {
    this.status[piece] = IN_FLIGHT;
    let holders = this.fetching.get(piece);
    if (!holders) this.fetching.set(piece, (holders = new Set()));
    holders.add(holder);
  }

  private changed(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
