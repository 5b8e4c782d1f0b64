// Replies to reads (RETRIEVE-ALL, RETRIEVE-INFOT, SEARCH-FILE), kept so that a retransmitted read gets
// the identical reply even if the registry changed in between. Reads are the bulk of the traffic, so
// this cache keeps no JavaScript object per reply: each entry's bytes (source ip, request, reply) are
// copied into one preallocated ring of bytes and its numbers into typed arrays. Keeping a Buffer and a
// record per reply, as the mutation cache does, made the garbage collector copy and promote every one
// of them: measured at a fifth of a SEARCH-FILE's server time under load.
//
// Entries leave in arrival order (every entry lives as long, so that is also expiry order), when the
// slots or the bytes run out, or when they expire. Reads have their own budget so that a flood of
// reads cannot push the replies of mutations out before their clients' retries arrive.
import { REPLY_CACHE_LIFETIME_MS } from './reply-cache.js';

/** Read replies kept at most. */
export const READ_REPLY_CACHE_ENTRIES = 32_768;

/**
 * Bytes for the (ip, request, reply) of every kept read: ~250 per SEARCH-FILE entry, up to ~2.4 KB
 * for a full page and its request at the default datagram limit. Allocated once, at start.
 */
export const READ_REPLY_CACHE_BYTES = 8 * 1024 * 1024;

const NONE = -1;

/** Hash buckets per slot: chains stay short, and a bucket is found by a multiply and a shift. */
const BUCKETS_PER_ENTRY = 2;

export class ReadReplyCache {
  private readonly bytes: Buffer;
  private readonly rq: Int32Array;
  private readonly port: Int32Array;
  private readonly expiresAt: Float64Array;
  /** Where the entry's bytes start in `bytes`: ip (latin1), then request, then reply. */
  private readonly start: Int32Array;
  private readonly ipLength: Int32Array;
  private readonly requestLength: Int32Array;
  private readonly replyLength: Int32Array;
  /** The next older slot in the same hash bucket, or NONE. */
  private readonly older: Int32Array;
  /** Hash bucket of (rq, port) → its newest slot, or NONE. An open table, not a Map: no allocation. */
  private readonly newest: Int32Array;
  private readonly bucketShift: number;
  /** Slot of the oldest entry. */
  private head = 0;
  private count = 0;
  /** Where the next entry's bytes go. */
  private writeAt = 0;

  private readonly maxEntries: number;
  private readonly lifetimeMs: number;
  private readonly now: () => number;

  constructor(options: { entries?: number; bytes?: number; lifetimeMs?: number; now?: () => number } = {}) {
    const maxEntries = (this.maxEntries = options.entries ?? READ_REPLY_CACHE_ENTRIES);
    this.lifetimeMs = options.lifetimeMs ?? REPLY_CACHE_LIFETIME_MS;
    this.now = options.now ?? performance.now.bind(performance);
    this.bytes = Buffer.alloc(options.bytes ?? READ_REPLY_CACHE_BYTES);
    this.rq = new Int32Array(maxEntries);
    this.port = new Int32Array(maxEntries);
    this.expiresAt = new Float64Array(maxEntries);
    this.start = new Int32Array(maxEntries);
    this.ipLength = new Int32Array(maxEntries);
    this.requestLength = new Int32Array(maxEntries);
    this.replyLength = new Int32Array(maxEntries);
    this.older = new Int32Array(maxEntries);
    const bucketBits = Math.max(1, Math.ceil(Math.log2(maxEntries * BUCKETS_PER_ENTRY)));
    this.newest = new Int32Array(2 ** bucketBits).fill(NONE);
    this.bucketShift = 32 - bucketBits;
  }

  /** A copy of the reply already given to these exact bytes from this source with this rq, if any. */
  lookup(ip: string, port: number, rq: number, request: Buffer): Buffer | undefined {
    let slot = this.newest[this.bucketOf(rq, port)]!;
    while (slot !== NONE && !(this.rq[slot] === rq && this.port[slot] === port && this.ipIs(slot, ip))) slot = this.older[slot]!;
    // The newest entry for (ip, port, rq) is the one that counts: a request with the same rq and other
    // bytes replaced any before it.
    if (slot === NONE || this.expiresAt[slot]! <= this.now()) return undefined;
    const at = this.start[slot]! + this.ipLength[slot]!;
    const length = this.requestLength[slot]!;
    if (length !== request.length || request.compare(this.bytes, at, at + length) !== 0) return undefined;
    // A copy: the ring's bytes are reused later, and a send the kernel could not take at once still
    // reads its buffer afterwards.
    return Buffer.from(this.bytes.subarray(at + length, at + length + this.replyLength[slot]!));
  }

  remember(ip: string, port: number, rq: number, request: Buffer, reply: Buffer): void {
    const size = ip.length + request.length + reply.length;
    if (size > this.bytes.length) return; // only with a datagram limit near the ring's size: not kept
    const now = this.now();
    while (this.count > 0 && (this.count === this.maxEntries || this.expiresAt[this.head]! <= now)) this.evictOldest();
    const at = this.reserve(size);
    const slot = (this.head + this.count) % this.maxEntries;
    const bucket = this.bucketOf(rq, port);
    this.rq[slot] = rq;
    this.port[slot] = port;
    this.expiresAt[slot] = now + this.lifetimeMs;
    this.start[slot] = at;
    this.ipLength[slot] = ip.length;
    this.requestLength[slot] = request.length;
    this.replyLength[slot] = reply.length;
    this.older[slot] = this.newest[bucket]!;
    this.newest[bucket] = slot;
    for (let i = 0; i < ip.length; i++) this.bytes[at + i] = ip.charCodeAt(i);
    this.bytes.set(request, at + ip.length);
    this.bytes.set(reply, at + ip.length + request.length);
    this.count++;
  }

  /** Entries kept now (expired ones leave when the next entry arrives). */
  get size(): number {
    return this.count;
  }

  /**
   * Room for `size` bytes at the write position, or at the start of the ring when it does not fit
   * before the end. Either way the entries whose bytes are in the way are the oldest ones: evict them.
   */
  private reserve(size: number): number {
    let at = this.writeAt;
    if (at + size > this.bytes.length) {
      // Entries between the write position and the end are older than any at the start: they go first.
      while (this.count > 0 && this.start[this.head]! >= at) this.evictOldest();
      at = 0;
    }
    while (this.count > 0 && this.start[this.head]! >= at && this.start[this.head]! < at + size) this.evictOldest();
    this.writeAt = at + size;
    return at;
  }

  private evictOldest(): void {
    const slot = this.head;
    const bucket = this.bucketOf(this.rq[slot]!, this.port[slot]!);
    // The oldest entry is the last of its bucket's chain: cut the chain before it.
    let newer = this.newest[bucket]!;
    if (newer === slot) this.newest[bucket] = NONE;
    else {
      while (this.older[newer] !== slot) newer = this.older[newer]!;
      this.older[newer] = NONE;
    }
    this.head = (this.head + 1) % this.maxEntries;
    this.count--;
    if (this.count === 0) this.writeAt = 0;
  }

  /** Fibonacci hashing of (rq, port): the top bits of their product with 2^32/φ. */
  private bucketOf(rq: number, port: number): number {
    return Math.imul(rq ^ Math.imul(port, 0x0001_0003), 0x9e37_79b1) >>> this.bucketShift;
  }

  private ipIs(slot: number, ip: string): boolean {
    const length = this.ipLength[slot]!;
    if (length !== ip.length) return false;
    const at = this.start[slot]!;
    for (let i = 0; i < length; i++) if (this.bytes[at + i] !== ip.charCodeAt(i)) return false;
    return true;
  }
}
