// The buffers frames are built in before they go to a socket, reused: once the socket has handed a
// batch to the kernel, the next batch is built in the same memory. A fresh 272 KB buffer per batch
// (two per 256 KB of binary read) kept the sender's garbage collector busy for ~80 ms per 100 MB.
import { MAX_LINE_BYTES } from '../../protocol/index.js';
import { IDLE_SEND_BUFFERS, SEND_BATCH_BYTES } from '../limits.js';

export class SendBuffers {
  /** Every pooled buffer is this long: a batch and room for the longest frame that ends it. */
  readonly bufferBytes = SEND_BATCH_BYTES + MAX_LINE_BYTES;
  private readonly free: Buffer[] = [];

  /** A buffer of at least `bytes` bytes that nobody else holds. */
  take(bytes: number): Buffer {
    if (bytes > this.bufferBytes) return Buffer.allocUnsafe(bytes);
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes);
  }

  /**
   * A batch (a taken buffer, or its start) that the socket is done with. Each buffer taken must be
   * given back at most once, and only when no part of it is still queued anywhere.
   */
  give(batch: Buffer): void {
    if (batch.byteOffset !== 0 || batch.buffer.byteLength !== this.bufferBytes || this.free.length >= IDLE_SEND_BUFFERS) return;
    this.free.push(Buffer.from(batch.buffer));
  }
}
