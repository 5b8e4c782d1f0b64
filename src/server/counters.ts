// What the server has done since it started: the figures of the one-line summary (logged every
// minute and on SIGUSR1) and of IndexServer.stats().
import { UDP_REQUEST_TYPES, type UdpRequestType } from '../generated/catalogue.js';
import type { Registry } from '../registry/index.js';

export class Counters {
  /** Datagrams received, before any check. */
  received = 0;
  readonly requests = Object.fromEntries(UDP_REQUEST_TYPES.map((t) => [t, 0])) as Record<UdpRequestType, number>;
  /** Requests answered with their refusal reply (…-DENIED, …-ERROR). */
  refused = 0;
  /** JSON objects answered with ERROR (unknown or missing type, unreadable rq). */
  errors = 0;
  /** Garbage answered with nothing: not UTF-8, not JSON, not an object, over the size limit. */
  dropped = 0;
  /** Datagrams over their source's rate limit, answered with nothing. */
  rateLimited = 0;
  /** Repeats answered from the reply cache. */
  retransmissions = 0;
  sendFailures = 0;
}

export interface ServerStats {
  received: number;
  requests: Record<UdpRequestType, number>;
  refused: number;
  errors: number;
  dropped: number;
  rateLimited: number;
  retransmissions: number;
  sendFailures: number;
  peers: number;
  files: number;
  /** How this server follows its registry's store (all zeros but `shared` for a store with one writer). */
  store: StoreFollowing;
}

export interface StoreFollowing {
  /** Whether other servers change the same registry. */
  shared: boolean;
  /** Last change-log revision applied here; the newest known; how many changes behind that is. */
  applied: number;
  head: number;
  lag: number;
  /** Milliseconds the store has not answered the change feed (0 while it answers). */
  staleMs: number;
  /** Full rereads after falling behind the retained log, and reconnections of the feed. */
  resyncs: number;
  reconnects: number;
  /** Requests decided again because their name changed through another server meanwhile. */
  conflicts: number;
  /** Retries answered with the outcome kept by the store (the first try went through any server). */
  repeats: number;
}

export function statsOf(counters: Counters, registry: Pick<Registry, 'peerCount' | 'fileCount' | 'shared' | 'storeStats'>): ServerStats {
  const following = registry.storeStats();
  return {
    ...counters,
    requests: { ...counters.requests },
    peers: registry.peerCount,
    files: registry.fileCount,
    store: { shared: registry.shared, ...following, lag: Math.max(0, following.head - following.applied) },
  };
}
