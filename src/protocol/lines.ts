// Splits a TCP byte stream into newline-terminated lines with a ceiling on line length, so a peer
// that sends an endless line is cut off instead of buffered forever.
import { ProtocolError } from './errors.js';
import { MAX_LINE_BYTES } from './limits.js';

const NEWLINE = 0x0a;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** Bytes held waiting for a newline. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** Feeds a chunk; returns the complete lines it finished (without their `\n`). */
  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      this.take(chunk.subarray(start, nl));
      lines.push(this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes));
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
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
