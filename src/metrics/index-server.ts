// What `p2fs-server --metrics` exposes. The server counts as it always has (src/server/counters.ts,
// the figures of its summary line); these metrics read those counts at each scrape, so the read path
// pays nothing for them. One row per figure in FROM_STATS: a number the server adds to its stats (the
// cluster's change-log lag, say) is exposed by adding one row. The store's write latency is the one
// histogram, observed as each write is confirmed (IndexServerOptions.onStoreWrite). /healthz is 200
// while the store answers a read, 503 when it fails or takes too long.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IndexServer, ServerStats } from '../server/index.js';
import type { Health } from './http.js';

/** A health check that waits longer than this says the store does not answer (probes time out at ~1-5 s). */
const HEALTH_TIMEOUT_MS = 2000;

/** Store write latency buckets, in seconds: a group commit takes milliseconds, a struggling store seconds. */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type Labelled = Array<[labels: Record<string, string>, value: number]>;

/** A figure read from the server's stats at each scrape. */
interface Row {
  name: string;
  help: string;
  kind: 'counter' | 'gauge';
  labels?: string[];
  read: (stats: ServerStats) => number | Labelled;
}

const FROM_STATS: Row[] = [
  { name: 'p2fs_server_datagrams_received_total', help: 'Datagrams received, before any check', kind: 'counter', read: (s) => s.received },
  {
    name: 'p2fs_server_requests_total', help: 'Requests decoded, by type (invalid ones included)', kind: 'counter', labels: ['type'],
    read: (s) => Object.entries(s.requests).map(([type, n]) => [{ type }, n]),
  },
  {
    name: 'p2fs_server_refusals_total', help: 'Requests answered with their refusal, by reply type and reason code (docs/errors.md)', kind: 'counter', labels: ['type', 'reason'],
    read: (s) => Object.entries(s.refusals).flatMap(([type, byReason]) => Object.entries(byReason).map(([reason, n]): Labelled[number] => [{ type, reason }, n])),
  },
  { name: 'p2fs_server_errors_total', help: 'JSON objects answered with ERROR (unknown or missing type, unreadable rq)', kind: 'counter', read: (s) => s.errors },
  {
    name: 'p2fs_server_dropped_total', help: "Datagrams answered with nothing, by reason: garbage (not a JSON object, too large) or over its source's rate limit", kind: 'counter', labels: ['reason'],
    read: (s) => [[{ reason: 'garbage' }, s.dropped], [{ reason: 'rate_limit' }, s.rateLimited]],
  },
  { name: 'p2fs_server_retransmissions_total', help: 'Repeated requests answered from the reply caches', kind: 'counter', read: (s) => s.retransmissions },
  { name: 'p2fs_server_send_failures_total', help: 'Replies the socket failed to send', kind: 'counter', read: (s) => s.sendFailures },
  { name: 'p2fs_server_peers', help: 'Registered peers', kind: 'gauge', read: (s) => s.peers },
  { name: 'p2fs_server_files', help: 'Published files (one per peer sharing it)', kind: 'gauge', read: (s) => s.files },
  // How this server follows a registry shared with other servers (all zero on a store with one writer).
  { name: 'p2fs_server_changelog_lag', help: "Changes of the shared registry's log not yet applied here", kind: 'gauge', read: (s) => s.store.lag },
  { name: 'p2fs_server_store_stale_seconds', help: 'Seconds the store has not answered the change feed (0 while it answers)', kind: 'gauge', read: (s) => s.store.staleMs / 1000 },
  { name: 'p2fs_server_changelog_resyncs_total', help: 'Full rereads after falling behind the retained change log', kind: 'counter', read: (s) => s.store.resyncs },
  { name: 'p2fs_server_changelog_reconnects_total', help: 'Reconnections of the change feed', kind: 'counter', read: (s) => s.store.reconnects },
  { name: 'p2fs_server_decision_conflicts_total', help: 'Requests decided again because their name changed through another server', kind: 'counter', read: (s) => s.store.conflicts },
  { name: 'p2fs_server_store_repeats_total', help: 'Retries answered with the outcome the store kept (first tried through any server)', kind: 'counter', read: (s) => s.store.repeats },
];

export interface IndexServerMetrics {
  registry: Registry;
  /** Pass as IndexServerOptions.onStoreWrite, before the server starts. */
  observeStoreWrite(seconds: number): void;
  /** Starts reading the server's figures (once it has started). */
  attach(server: IndexServer): void;
  health(): Promise<Health>;
}

export function indexServerMetrics(): IndexServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let server: IndexServer | undefined;
  for (const { name, help, kind, labels = [], read } of FROM_STATS) {
    const Metric = kind === 'counter' ? Counter : Gauge;
    new Metric({
      name, help, labelNames: labels, registers,
      collect(this: Counter | Gauge) {
        if (!server) return;
        const sample = read(server.stats());
        this.reset();
        if (typeof sample === 'number') set(this, {}, sample);
        else for (const [labels, value] of sample) set(this, labels, value);
      },
    });
  }
  const storeWrites = new Histogram({
    name: 'p2fs_server_store_write_seconds', help: 'Time the store took to confirm a write durable (writes of one event-loop turn share one commit)',
    buckets: STORE_BUCKETS, registers,
  });

  return {
    registry,
    observeStoreWrite: (seconds) => storeWrites.observe(seconds),
    attach(started) {
      server = started;
    },
    async health() {
      if (!server) return { ok: false, store: 'not started' };
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const tooLong = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS);
      });
      try {
        await Promise.race([server.checkStore(), tooLong]);
        return { ok: true, store: server.registry.description, answeredInMs: Math.round((performance.now() - started) * 10) / 10 };
      } catch (error) {
        return { ok: false, store: server.registry.description, error: (error as Error).message };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function set(metric: Counter | Gauge, labels: Record<string, string>, value: number): void {
  if (metric instanceof Counter) metric.inc(labels, value);
  else metric.set(labels, value);
}
