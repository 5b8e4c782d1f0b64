// Retransmissions: a client that lost our reply sends the same request again with the same rq. It
// must get the identical reply, and a mutation must take effect once, so recent replies are kept by
// (source ip, source port, rq) together with the request bytes they answered. A repeat that arrives
// while the first is still being handled awaits the same reply.

/**
 * Replies kept at most. At ~1.3 KB each (request + reply datagram) that bounds the cache at ~13 MB;
 * 10,000 covers several seconds of replies at full load, longer than any client's retry schedule.
 */
export const REPLY_CACHE_ENTRIES = 10_000;

/** How long a reply is kept: a client that has not retransmitted within a minute has given up. */
export const REPLY_CACHE_LIFETIME_MS = 60_000;

interface Remembered {
  request: Buffer;
  reply: Promise<Buffer>;
  expiresAt: number;
}

export class ReplyCache {
  private readonly entries = new Map<string, Remembered>();
  // Eviction order. Every entry lives as long, so insertion order is expiry order. Kept apart from the
  // Map because deleting from the front of a V8 Map leaves holes that every later iteration walks.
  private readonly order: Array<{ key: string; entry: Remembered }> = [];
  private head = 0;

  constructor(
    private readonly maxEntries = REPLY_CACHE_ENTRIES,
    private readonly lifetimeMs = REPLY_CACHE_LIFETIME_MS,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** The reply already given to these exact bytes from this source with this rq, if any. */
  lookup(key: string, request: Buffer): Promise<Buffer> | undefined {
    const hit = this.entries.get(key);
    if (!hit || hit.expiresAt <= this.now() || !hit.request.equals(request)) return undefined;
    return hit.reply;
  }

  remember(key: string, request: Buffer, reply: Promise<Buffer>): void {
    const now = this.now();
    const entry = { request, reply, expiresAt: now + this.lifetimeMs };
    this.entries.set(key, entry); // same rq, different bytes: the new request replaces the old
    this.order.push({ key, entry });
    while (this.head < this.order.length) {
      const oldest = this.order[this.head]!;
      if (this.entries.size <= this.maxEntries && oldest.entry.expiresAt > now) break;
      if (this.entries.get(oldest.key) === oldest.entry) this.entries.delete(oldest.key);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

export const replyKey = (ip: string, port: number, rq: number): string => `${ip}|${port}|${rq}`;
