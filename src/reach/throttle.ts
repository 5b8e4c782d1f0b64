// A byte budget shared by every relayed transfer of one relay: `bytesPerSecond` on average, a
// second's worth at once. A chunk over the budget waits (its stream pauses behind it), so a relay
// never carries more than it offered, however many transfers share it.
import { Transform } from 'node:stream';

export class ByteBudget {
  private tokens: number;
  private updatedAt: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = bytesPerSecond;
    this.updatedAt = now();
  }

  /** Resolves when `bytes` may pass; callers are served in order. */
  take(bytes: number): Promise<void> {
    this.queue = this.queue.then(async () => {
      const now = this.now();
      this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.updatedAt) * this.bytesPerSecond) / 1000);
      this.updatedAt = now;
      this.tokens -= bytes;
      // In debt: wait until the debt is paid back (a chunk larger than a second's budget waits longer).
      if (this.tokens < 0) await new Promise((resolve) => setTimeout(resolve, (-this.tokens * 1000) / this.bytesPerSecond));
    });
    return this.queue;
  }

  /** A pass-through stream that spends this budget. */
  stream(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.take(chunk.length).then(() => done(null, chunk), done);
      },
    });
  }
}
