// How long the client waits for the index server, and how often it asks again. UDP loses datagrams;
// a request is resent with the same bytes and rq, so the server's reply cache makes it count once.

/**
 * Tries per request (the first send plus six resends). At 20 % loss each way a try fails about 35 %
 * of the time; 0.35^7 ≈ 0.07 % of requests then time out, inside the ≥ 99.5 % success the
 * reliability tests hold us to (5 tries gave 0.35^5 ≈ 0.55 %: below it).
 */
export const DEFAULT_ATTEMPTS = 7;

/** First wait for a reply. Loopback and LAN answer in well under a millisecond; a distant server in tens. */
export const DEFAULT_FIRST_TIMEOUT_MS = 500;

/**
 * Ceiling of the doubling wait: 500, 1000, 2000, 2000, 2000, 2000, 2000 ms — 11.5 s in all, short
 * enough that a person at a prompt is told soon, long enough to outlast a busy server's queue.
 */
export const DEFAULT_MAX_TIMEOUT_MS = 2000;

/**
 * With several servers, unanswered tries on one before the next gets the request: two (1.5 s at the
 * default waits) tell a lost datagram from a server that has stopped; 7 tries visit three servers.
 */
export const DEFAULT_FAILOVER_AFTER = 2;

export interface RetryPolicy {
  attempts: number;
  firstTimeoutMs: number;
  maxTimeoutMs: number;
  /** Unanswered tries on one server before moving to the next (with several servers). */
  failoverAfter: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: DEFAULT_ATTEMPTS,
  firstTimeoutMs: DEFAULT_FIRST_TIMEOUT_MS,
  maxTimeoutMs: DEFAULT_MAX_TIMEOUT_MS,
  failoverAfter: DEFAULT_FAILOVER_AFTER,
};

/** The wait after try number `attempt` (1-based). */
export function timeoutFor(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.firstTimeoutMs * 2 ** (attempt - 1), Math.max(policy.maxTimeoutMs, policy.firstTimeoutMs));
}

/** Total time a request may wait before it fails with TIMEOUT. */
export function totalWaitMs(policy: RetryPolicy): number {
  let total = 0;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) total += timeoutFor(policy, attempt);
  return total;
}
