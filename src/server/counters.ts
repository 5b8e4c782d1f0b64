// What the server has done since it started: the figures of the one-line summary (logged every
// minute and on SIGUSR1) and of IndexServer.stats().
import { UDP_REQUEST_TYPES, type UdpRequestType } from '../generated/catalogue.js';

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
}

export function statsOf(counters: Counters, peers: number, files: number): ServerStats {
  return { ...counters, requests: { ...counters.requests }, peers, files };
}
