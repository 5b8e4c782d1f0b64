// Retransmissions: a client that lost our reply sends the same request again with the same rq. It
// must get the identical reply, and a mutation must take effect once, so recent replies are kept by
// (source ip, source port, rq) together with the request bytes they answered. This cache holds the
// replies of mutations, which may still be awaiting the store: a repeat that arrives meanwhile gets
// the same pending reply. Reads have their own cache (read-replies.ts), so a flood of reads
// cannot push a mutation's reply out before its client's retries arrive.

/**
 * Mutation replies kept at most. At ~1.3 KB each (request + reply datagram) that bounds the cache at
 * ~13 MB. Mutations are rate-limited per source (200/s by default), and the default client retries
 * after 0.5, 1.5 and 3.5 s: 10,000 covers 50 sources mutating at their full rate for a second.
 */
export const REPLY_CACHE_ENTRIES = 10_000;

/** How long a reply is kept: a client that has not retransmitted within a minute has given up. */
export const REPLY_CACHE_LIFETIME_MS = 60_000;

/** A reply ready to send, or one its handler is still computing (a mutation awaiting the store). */
export type CachedReply = Buffer | Promise<Buffer>;

interface Remembered {
  readonly request: Buffer;
  readonly reply: CachedReply;
  readonly expiresAt: number;
}

export class MutationReplyCache {
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
  lookup(ip: string, port: number, rq: number, request: Buffer): CachedReply | undefined {
    const hit = this.entries.get(keyOf(ip, port, rq));
    if (!hit || hit.expiresAt <= this.now() || !hit.request.equals(request)) return undefined;
    return hit.reply;
  }

  remember(ip: string, port: number, rq: number, request: Buffer, reply: CachedReply): void {
    const now = this.now();
    const key = keyOf(ip, port, rq);
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

  /** Forgets the reply remembered for (ip, port, rq), if it is still `reply`. */
  forget(ip: string, port: number, rq: number, reply: CachedReply): void {
    const key = keyOf(ip, port, rq);
    if (this.entries.get(key)?.reply === reply) this.entries.delete(key);
  }
}

const keyOf = (ip: string, port: number, rq: number): string => `${ip}|${port}|${rq}`;
