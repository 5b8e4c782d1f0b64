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
import { REPLY_CACHE_LIFETIME_MS } from './mutation-replies.js';
import { turnClock } from './turn-clock.js';

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

/**
 * An entry's numbers, side by side in `slots` (8 per entry, one cache line for two entries): the
 * lookup of a request that is not a repeat, and the eviction of the oldest entry, each touch a few
 * random entries, and in separate arrays each field of each was a cache miss of its own.
 */
const FIELDS = 8;
const RQ = 0;
const PORT = 1;
/** Where the entry's bytes start in `bytes`: ip (latin1), then request, then reply. */
const START = 2;
const IP_LENGTH = 3;
const REQUEST_LENGTH = 4;
const REPLY_LENGTH = 5;
/** The next older slot in the same hash bucket, or NONE. */
const OLDER = 6;

export class ReadReplyCache {
  private readonly bytes: Buffer;
  /** FIELDS numbers per slot. */
  private readonly slots: Int32Array;
  /** Read only for the oldest entry and for a repeat found: apart from the numbers looked up. */
  private readonly expiresAt: Float64Array;
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
    this.now = options.now ?? turnClock;
    this.bytes = Buffer.alloc(options.bytes ?? READ_REPLY_CACHE_BYTES);
    this.slots = new Int32Array(maxEntries * FIELDS);
    this.expiresAt = new Float64Array(maxEntries);
    const bucketBits = Math.max(1, Math.ceil(Math.log2(maxEntries * BUCKETS_PER_ENTRY)));
    this.newest = new Int32Array(2 ** bucketBits).fill(NONE);
    this.bucketShift = 32 - bucketBits;
  }

  /** A copy of the reply already given to these exact bytes from this source with this rq, if any. */
  lookup(ip: string, port: number, rq: number, request: Buffer): Buffer | undefined {
    const { slots } = this;
    let slot = this.newest[this.bucketOf(rq, port)]!;
    while (slot !== NONE && !(slots[slot * FIELDS + RQ] === rq && slots[slot * FIELDS + PORT] === port && this.ipIs(slot, ip))) {
      slot = slots[slot * FIELDS + OLDER]!;
    }
    // The newest entry for (ip, port, rq) is the one that counts: a request with the same rq and other
    // bytes replaced any before it.
    if (slot === NONE || this.expiresAt[slot]! <= this.now()) return undefined;
    const fields = slot * FIELDS;
    const at = slots[fields + START]! + slots[fields + IP_LENGTH]!;
    const length = slots[fields + REQUEST_LENGTH]!;
    if (length !== request.length || request.compare(this.bytes, at, at + length) !== 0) return undefined;
    // A copy: the ring's bytes are reused later, and a send the kernel could not take at once still
    // reads its buffer afterwards.
    return Buffer.from(this.bytes.subarray(at + length, at + length + slots[fields + REPLY_LENGTH]!));
  }

  remember(ip: string, port: number, rq: number, request: Buffer, reply: Buffer): void {
    const size = ip.length + request.length + reply.length;
    if (size > this.bytes.length) return; // only with a datagram limit near the ring's size: not kept
    const now = this.now();
    while (this.count > 0 && (this.count === this.maxEntries || this.expiresAt[this.head]! <= now)) this.evictOldest();
    const at = this.reserve(size);
    const slot = (this.head + this.count) % this.maxEntries;
    const bucket = this.bucketOf(rq, port);
    const { slots, bytes } = this;
    const fields = slot * FIELDS;
    slots[fields + RQ] = rq;
    slots[fields + PORT] = port;
    slots[fields + START] = at;
    slots[fields + IP_LENGTH] = ip.length;
    slots[fields + REQUEST_LENGTH] = request.length;
    slots[fields + REPLY_LENGTH] = reply.length;
    slots[fields + OLDER] = this.newest[bucket]!;
    this.expiresAt[slot] = now + this.lifetimeMs;
    this.newest[bucket] = slot;
    for (let i = 0; i < ip.length; i++) bytes[at + i] = ip.charCodeAt(i);
    bytes.set(request, at + ip.length);
    bytes.set(reply, at + ip.length + request.length);
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
      while (this.count > 0 && this.startOf(this.head) >= at) this.evictOldest();
      at = 0;
    }
    while (this.count > 0 && this.startOf(this.head) >= at && this.startOf(this.head) < at + size) this.evictOldest();
    this.writeAt = at + size;
    return at;
  }

  private startOf(slot: number): number {
    return this.slots[slot * FIELDS + START]!;
  }

  private evictOldest(): void {
    const { slots } = this;
    const slot = this.head;
    const bucket = this.bucketOf(slots[slot * FIELDS + RQ]!, slots[slot * FIELDS + PORT]!);
    // The oldest entry is the last of its bucket's chain: cut the chain before it.
    let newer = this.newest[bucket]!;
    if (newer === slot) this.newest[bucket] = NONE;
    else {
      while (slots[newer * FIELDS + OLDER] !== slot) newer = slots[newer * FIELDS + OLDER]!;
      slots[newer * FIELDS + OLDER] = NONE;
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
    const length = this.slots[slot * FIELDS + IP_LENGTH]!;
    if (length !== ip.length) return false;
    const at = this.slots[slot * FIELDS + START]!;
    for (let i = 0; i < length; i++) if (this.bytes[at + i] !== ip.charCodeAt(i)) return false;
    return true;
  }
}
