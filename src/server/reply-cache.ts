// Retransmissions: a client that lost our reply sends the same request again with the same rq. It
// must get the identical reply, and a mutation must take effect once, so recent replies are kept by
// (source ip, source port, rq) together with the request bytes they answered. This cache holds the
// replies of mutations, which may still be awaiting the store: a repeat that arrives meanwhile gets
// the same pending reply. Reads have their own cache (read-reply-cache.ts), so a flood of reads
// cannot push a mutation's reply out before its client's retries arrive.
//
// Lookups use a small-integer hash of (rq, port) instead of a string key (building and hashing
// `ip|port|rq` cost more than the lookup itself), with collisions chained, and a fixed ring of slots
// in arrival order. Every entry lives as long, so arrival order is expiry order and the oldest slot is
// the next one to free.

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
  readonly ip: string;
  readonly port: number;
  readonly rq: number;
  readonly request: Buffer;
  readonly reply: CachedReply;
  readonly expiresAt: number;
  /** The next entry whose (rq, port) hashed alike. */
  sameHash: Remembered | undefined;
}

/** (rq, port) folded into V8's small-integer range, so the Map hashes it without allocating. */
const hashOf = (rq: number, port: number): number => (rq * 65_599 + port) & 0x3fff_ffff;

export class MutationReplyCache {
  private readonly chains = new Map<number, Remembered>();
  private readonly ring: Array<Remembered | undefined>;
  /** Slot of the oldest entry. */
  private head = 0;
  private count = 0;

  constructor(
    private readonly maxEntries = REPLY_CACHE_ENTRIES,
    private readonly lifetimeMs = REPLY_CACHE_LIFETIME_MS,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.ring = new Array<Remembered | undefined>(maxEntries).fill(undefined);
  }

  /** The reply already given to these exact bytes from this source with this rq, if any. */
  lookup(ip: string, port: number, rq: number, request: Buffer): CachedReply | undefined {
    const hit = this.find(ip, port, rq);
    if (!hit || hit.expiresAt <= this.now() || !hit.request.equals(request)) return undefined;
    return hit.reply;
  }

  remember(ip: string, port: number, rq: number, request: Buffer, reply: CachedReply): void {
    const now = this.now();
    while (this.count > 0 && (this.count === this.maxEntries || this.ring[this.head]!.expiresAt <= now)) this.evictOldest();
    // Same rq, different bytes: the new request replaces the old one (its slot ages out unread).
    this.unlink(this.find(ip, port, rq));
    const hash = hashOf(rq, port);
    const entry: Remembered = { ip, port, rq, request, reply, expiresAt: now + this.lifetimeMs, sameHash: this.chains.get(hash) };
    this.chains.set(hash, entry);
    this.ring[(this.head + this.count) % this.maxEntries] = entry;
    this.count++;
  }

  /** Entries answerable now (replaced and expired ones may still hold a slot until it is reused). */
  get size(): number {
    let live = 0;
    const now = this.now();
    for (const head of this.chains.values()) {
      for (let entry: Remembered | undefined = head; entry; entry = entry.sameHash) if (entry.expiresAt > now) live++;
    }
    return live;
  }

  private find(ip: string, port: number, rq: number): Remembered | undefined {
    let entry = this.chains.get(hashOf(rq, port));
    while (entry && !(entry.rq === rq && entry.port === port && entry.ip === ip)) entry = entry.sameHash;
    return entry;
  }

  private evictOldest(): void {
    this.unlink(this.ring[this.head]);
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.maxEntries;
    this.count--;
  }

  /** Takes `entry` out of its hash chain; a no-op for one already replaced. */
  private unlink(entry: Remembered | undefined): void {
    if (!entry) return;
    const hash = hashOf(entry.rq, entry.port);
    const first = this.chains.get(hash);
    if (first === entry) {
      if (entry.sameHash) this.chains.set(hash, entry.sameHash);
      else this.chains.delete(hash);
      return;
    }
    for (let before = first; before; before = before.sameHash) {
      if (before.sameHash === entry) {
        before.sameHash = entry.sameHash;
        return;
      }
    }
  }
}
