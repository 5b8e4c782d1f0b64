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
  /** The same, by `refusal reply type` + ` ` + reason code (NAME_TAKEN, INVALID, NOT_SHARED…). */
  readonly refusals = new Map<string, number>();
  /** JSON objects answered with ERROR (unknown or missing type, unreadable rq). */
  errors = 0;
  /** Garbage answered with nothing: not UTF-8, not JSON, not an object, over the size limit. */
  dropped = 0;
  /** Datagrams over their source's rate limit, answered with nothing. */
  rateLimited = 0;
  /** Repeats answered from the reply cache. */
  retransmissions = 0;
  sendFailures = 0;

  refuse(replyType: string, code: string): void {
    this.refused++;
    const key = `${replyType} ${code}`;
    this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
  }
}

export interface ServerStats {
  received: number;
  requests: Record<UdpRequestType, number>;
  refused: number;
  /** Refusals by reply type, then by reason code. */
  refusals: Record<string, Record<string, number>>;
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
  const refusals: Record<string, Record<string, number>> = {};
  for (const [key, count] of counters.refusals) {
    const [type, code] = key.split(' ') as [string, string];
    (refusals[type] ??= {})[code] = count;
  }
  const { refusals: _, ...plain } = counters;
  return {
    ...plain,
    requests: { ...counters.requests },
    refusals,
    peers: registry.peerCount,
    files: registry.fileCount,
    store: { shared: registry.shared, ...following, lag: Math.max(0, following.head - following.applied) },
  };
}
