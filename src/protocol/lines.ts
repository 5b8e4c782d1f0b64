// Splits a TCP byte stream into newline-terminated lines with a ceiling on line length, so a peer
// that sends an endless line is cut off instead of buffered forever. After an over-long line the
// stream has lost its framing (the rest of that line would read as lines of its own): every push
// from then on throws. The lines completed before it are still yielded, even in the same chunk.
import { ProtocolError } from './errors.js';
import { MAX_LINE_BYTES } from './limits.js';

const NEWLINE = 0x0a;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The over-long line's error, once there was one. */
  private failure: ProtocolError | undefined;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** Bytes held waiting for a newline. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /**
   * Feeds a chunk; returns the complete lines it finished (without their `\n`). Throws TOO_LARGE at an
   * over-long line, or on the next push when this chunk completed lines before it.
   */
  push(chunk: Buffer): Buffer[] {
    if (this.failure) throw this.failure;
    const lines: Buffer[] = [];
    let start = 0;
    try {
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        this.take(chunk.subarray(start, nl));
        lines.push(this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes));
        this.pending = [];
        this.pendingBytes = 0;
        start = nl + 1;
      }
      if (start < chunk.length) this.take(chunk.subarray(start));
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.failure = error;
      if (lines.length === 0) throw error;
    }
    return lines;
  }

  private take(part: Buffer): void {
    this.pendingBytes += part.length;
    if (this.pendingBytes > this.maxLineBytes) {
      this.pending = [];
      this.pendingBytes = 0;
      throw new ProtocolError('TOO_LARGE', `line is over the ${this.maxLineBytes}-byte limit without a newline`);
    }
    this.pending.push(part);
  }
}
