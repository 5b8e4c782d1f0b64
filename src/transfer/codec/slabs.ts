// The memory a piece decoder decodes pieces into: slabs of a few pieces each, used again once
// every piece in them is done with. A piece's bytes stay where they were decoded until the
// downloader has written them to disk (or dropped them), so a slab goes back to the pool only when
// the decoder has moved on from it and every piece handed out from it was released. A piece never
// released just keeps its slab out of the pool, for the garbage collector: a missed release costs
// memory reuse, never bytes. Fresh slabs for every few pieces cost more than the bytes they hold:
// allocation, page faults and the collections that external memory forces.
import { viewOf } from './layout.js';

export class Slab {
  readonly view: DataView;
  /** Pieces handed out from this slab and not released yet. */
  outstanding = 0;
  /** The decoder moved on to another slab: no more pieces go into this one. */
  retired = false;

  constructor(readonly bytes: Buffer) {
    this.view = viewOf(bytes);
  }
}

export class SlabPool {
  private readonly idle: Slab[] = [];

  constructor(
    private readonly slabBytes: number,
    /** Idle slabs kept for reuse at most; more are left to the garbage collector. */
    private readonly maxIdle: number,
  ) {}

  take(): Slab {
    const slab = this.idle.pop() ?? new Slab(Buffer.allocUnsafe(this.slabBytes));
    slab.retired = false;
    return slab;
  }

  /** The decoder is done writing into `slab`: it is reused once its pieces are released. */
  retire(slab: Slab): void {
    slab.retired = true;
    this.reuseIfFree(slab);
  }

  /**
   * Counts a piece handed out from `slab`. Returns its release: called once the piece's bytes are
   * no longer needed, it counts the piece back in; calling it again does nothing.
   */
  handOut(slab: Slab): () => void {
    slab.outstanding++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      slab.outstanding--;
      this.reuseIfFree(slab);
    };
  }

  private reuseIfFree(slab: Slab): void {
    if (slab.retired && slab.outstanding === 0 && this.idle.length < this.maxIdle) this.idle.push(slab);
  }
}
