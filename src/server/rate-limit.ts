// Per-source-IP token buckets, checked before any parsing: a flooding source spends only a Map lookup
// per datagram, and well-behaved sources keep their own budget. Over-limit datagrams get no reply
// (a refusal would itself be traffic towards a possibly spoofed address); they are counted and
// summarised once per interval by the caller, never logged one by one.

export interface RateLimit {
  /** Datagrams per second a source may send on average; 0 turns limiting off. */
  perSecond: number;
  /** Datagrams a quiet source may send at once. */
  burst: number;
}

/** 200/s is ~10× what a busy peer needs (a retry storm of 20 peers behind one NAT still fits). */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 200, burst: 400 };

/**
 * Sources tracked at most. A spoofed flood from random addresses must not grow memory without
 * bound: at ~150 bytes a bucket this is ~10 MB. Past it, idle buckets go first.
 */
export const MAX_TRACKED_SOURCES = 65_536;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private refusedBySource = new Map<string, number>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = performance.now.bind(performance),
    private readonly maxSources = MAX_TRACKED_SOURCES,
  ) {}

  get enabled(): boolean {
    return this.limit.perSecond > 0;
  }

  /** True when a datagram from `ip` may be handled; false when its source is over its budget. */
  admit(ip: string): boolean {
    const now = this.now();
    let bucket = this.buckets.get(ip);
    if (!bucket) {
      if (this.buckets.size >= this.maxSources) this.evict(now);
      bucket = { tokens: this.limit.burst, updatedAt: now };
      this.buckets.set(ip, bucket);
    } else {
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.updatedAt) * this.limit.perSecond) / 1000);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    this.refusedBySource.set(ip, (this.refusedBySource.get(ip) ?? 0) + 1);
    return false;
  }

  /** The refusals since the last call, by source, busiest first (for one summary line per interval). */
  takeRefusals(): Array<[string, number]> {
    const refused = [...this.refusedBySource].sort((a, b) => b[1] - a[1]);
    this.refusedBySource = new Map();
    return refused;
  }

  get trackedSources(): number {
    return this.buckets.size;
  }

  private evict(now: number): void {
    // A bucket that has refilled is indistinguishable from no bucket: dropping it changes nothing.
    const refillMs = (this.limit.burst * 1000) / this.limit.perSecond;
    for (const [ip, bucket] of this.buckets) if (now - bucket.updatedAt >= refillMs) this.buckets.delete(ip);
    // Still full (a flood of distinct sources): forget the oldest-created tenth, which at worst
    // hands those sources a fresh burst.
    if (this.buckets.size < this.maxSources) return;
    let drop = Math.ceil(this.maxSources / 10);
    for (const ip of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(ip);
    }
  }
}
