// Following the change log: every server keeps the whole registry in memory and applies, in revision
// order, every change any server commits (the Kubernetes API server's watch cache, in PostgreSQL).
//
// - A dedicated connection (not pooled: a pooled LISTEN is lost when the pool recycles it) LISTENs
//   for the commit function's NOTIFY. Its payload is the new head, or for a small group the head and
//   the changes themselves, applied at once when they follow the last change applied. Otherwise a
//   wake-up reads the changes after the last one applied, in pages. A notification is only a hint:
//   they are lost across reconnects, and a silent connection may be dead, so the log is also read at
//   least once a second.
// - A lost connection is reconnected with backoff, re-LISTENed, and the log read from where it was.
// - A gap (the first change after `applied` was pruned, or the head moved back: a restored database)
//   means this server fell behind the retained log: it rereads every peer from a snapshot, in pages,
//   in one REPEATABLE READ transaction, and goes on from the snapshot's revision.
// - caughtUp() is the read barrier: it reads the head now and waits until the changes up to it
//   have been applied (or BARRIER_MS pass).
import pg from 'pg';
import type { ClientConfig, Pool } from 'pg';
import type { Logger } from '../../log/index.js';
import type { Change, ChangeSink } from '../ledger.js';
import { checkIn, checkOut } from './connections.js';
import { NOTIFY_CHANNEL } from './schema.js';

/** Longest pause between two reads of the log, whatever the notifications say. */
export const POLL_MS = 1000;
/** Changes, or peers of a snapshot, read per query. */
const PAGE_ROWS = 1000;
/** Longest a read that would miss waits for this server to catch up. */
export const BARRIER_MS = 500;
/** Reconnection backoff of the listening connection. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2000;

interface Waiter {
  revision: number;
  resolve: () => void;
}

interface ChangeRow {
  head: string;
  rev: string | null;
  name: string | null;
  record: string | null;
}

export class ChangeFeed {
  /** The last revision applied, and the newest known to exist. */
  applied = 0;
  head = 0;
  resyncs = 0;
  reconnects = 0;
  /** When the store last answered a read of the log (performance.now()). */
  private lastAnswer = performance.now();
  private listener: pg.Client | undefined;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  /** The last read of the log failed (logged once, until one succeeds again). */
  private failing = false;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private waiters: Waiter[] = [];
  private headInFlight: Promise<number> | undefined;
  private headNext: Promise<number> | undefined;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly listenerConfig: ClientConfig,
    private readonly sink: ChangeSink,
    private readonly log: Logger,
  ) {}

  /** Loads every peer, then listens and follows from there. */
  async start(): Promise<void> {
    await this.resync();
    await this.listen();
    this.poller = setInterval(() => this.wake(), POLL_MS);
    this.poller.unref();
    this.wake();
  }

  /** Milliseconds the log has gone unread past its polling interval (0 while it keeps answering). */
  get staleMs(): number {
    const since = performance.now() - this.lastAnswer;
    return since > 2 * POLL_MS ? Math.round(since) : 0;
  }

  /**
   * Resolves once every change committed before the call is applied, or after BARRIER_MS whatever
   * happens (a database that does not answer the head's question included).
   */
  caughtUp(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let waiter: Waiter | undefined;
      const timer = setTimeout(() => {
        if (waiter) this.waiters = this.waiters.filter((other) => other !== waiter);
        resolve();
      }, BARRIER_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.headNow().then(
        (target) => {
          if (this.applied >= target) return done();
          this.waiters.push((waiter = { revision: target, resolve: done }));
          this.wake();
        },
        done, // the store does not answer: nothing newer can be learnt now
      );
    });
  }

  /** Reads the log now (or once the read under way ends). */
  wake(): void {
    if (this.closed) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.readLoop().finally(() => (this.reading = undefined));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poller);
    clearTimeout(this.reconnectTimer);
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
    await this.reading?.catch(() => {});
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
  }

  private async readLoop(): Promise<void> {
    do {
      this.readAgain = false;
      try {
        await this.readChanges();
        if (this.failing) this.log.info('change log readable again', { applied: this.applied });
        this.failing = false;
      } catch (error) {
        if (!this.failing) this.log.warn('change log read failed: retrying every second', { error });
        this.failing = true;
        return; // the next poll tries again
      }
    } while (this.readAgain && !this.closed);
  }

  /**
   * Applies the changes after `applied`, a page at a time; resyncs on a gap. Notifications may apply
   * some meanwhile: what the read brings is applied from where `applied` stands when it returns.
   */
  private async readChanges(): Promise<void> {
    for (;;) {
      const from = this.applied;
      const { rows } = await this.pool.query<ChangeRow>(
        `SELECT h.rev AS head, c.rev, c.name, c.record FROM p2fs_head h
         LEFT JOIN LATERAL (SELECT rev, name, record FROM p2fs_changes WHERE rev > $1 ORDER BY rev LIMIT $2) c ON true`,
        [from, PAGE_ROWS],
      );
      this.lastAnswer = performance.now();
      if (this.closed) return;
      const head = Number(rows[0]!.head);
      this.head = Math.max(this.head, head);
      const changes = rows.filter((row) => row.rev !== null);
      const first = changes.length > 0 ? Number(changes[0]!.rev) : undefined;
      const gap = head < from || (first === undefined ? head > from : first !== from + 1);
      if (gap) {
        this.log.warn('fell behind the change log: rereading every peer', { applied: from, head, firstKept: first ?? null });
        this.resyncs++;
        await this.resync();
        continue;
      }
      this.apply(changes.map((row) => ({ name: row.name!, version: Number(row.rev), record: parsed(row.record) })));
      if (changes.length < PAGE_ROWS) return;
    }
  }

  /** Changes that start at or before the one after `applied`, in revision order: the new ones are applied. */
  private apply(changes: readonly Change[]): void {
    const fresh = changes.filter((change) => change.version > this.applied);
    if (fresh.length > 0) this.sink.receive(fresh);
    this.reached(Math.max(this.applied, changes.at(-1)?.version ?? this.applied));
  }

  /** A notification: the new head, or the head and the changes that lead to it. */
  private notified(payload: string | undefined): void {
    let head: number;
    let changes: Array<{ rev: number; name: string; record: string | null }> | undefined;
    try {
      const message = JSON.parse(payload ?? '') as number | { head: number; changes: typeof changes };
      head = typeof message === 'number' ? message : message.head;
      changes = typeof message === 'number' ? undefined : message.changes;
    } catch {
      return this.wake();
    }
    if (head > this.head) this.head = head;
    if (head <= this.applied) return;
    // Applied at once only when they follow on from what this server has: else the log is read.
    if (!changes || changes.length === 0 || changes[0]!.rev > this.applied + 1) return this.wake();
    this.lastAnswer = performance.now();
    this.apply(changes.map((change) => ({ name: change.name, version: change.rev, record: parsed(change.record) })));
  }

  /**
   * Every peer from one snapshot, page by page, then the snapshot's revision as the place to follow
   * from. Pages go to the registry as they come: each name's state is the snapshot's or newer.
   */
  private async resync(): Promise<void> {
    const client = await checkOut(this.pool);
    let failed: unknown;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const { rows: head } = await client.query<{ rev: string }>('SELECT rev FROM p2fs_head WHERE id = 1');
      const revision = Number(head[0]!.rev);
      const present = new Set<string>();
      let after = '';
      for (;;) {
        const { rows } = await client.query<{ name: string; version: string; record: string }>(
          'SELECT name, version, record FROM p2fs_peers WHERE name > $1 ORDER BY name LIMIT $2',
          [after, PAGE_ROWS],
        );
        if (rows.length === 0) break;
        const page: Change[] = rows.map((row) => ({ name: row.name, version: Number(row.version), record: parsed(row.record) }));
        for (const row of rows) present.add(row.name);
        this.sink.receive(page);
        after = rows.at(-1)!.name;
        if (rows.length < PAGE_ROWS) break;
      }
      await client.query('COMMIT');
      this.lastAnswer = performance.now();
      this.sink.keepOnly(present, revision);
      this.head = Math.max(this.head, revision);
      this.reached(revision);
    } catch (error) {
      failed = error;
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      checkIn(client, failed instanceof Error && !('severity' in failed) ? failed : undefined);
    }
  }

  private reached(revision: number): void {
    this.applied = revision;
    this.sink.caughtUp(revision);
    if (this.waiters.length === 0) return;
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) (waiter.revision <= revision ? waiter.resolve() : waiting.push(waiter));
    this.waiters = waiting;
  }

  /**
   * The head as of now. A query already under way may have read it before the caller's reason to ask
   * (a commit acknowledged a moment ago): callers then share the next query, never an older one.
   */
  private headNow(): Promise<number> {
    if (!this.headInFlight) {
      this.headInFlight = this.pool
        .query<{ rev: string }>('SELECT rev FROM p2fs_head WHERE id = 1')
        .then(({ rows }) => Number(rows[0]!.rev))
        .finally(() => (this.headInFlight = undefined));
      return this.headInFlight;
    }
    this.headNext ??= this.headInFlight
      .catch(() => 0)
      .then(() => {
        this.headNext = undefined;
        return this.headNow();
      });
    return this.headNext;
  }

  private async listen(): Promise<void> {
    const listener = new pg.Client(this.listenerConfig);
    // A dropped connection reports itself here (an error, then the end): reconnect and read on.
    listener.on('error', (error) => this.lost(listener, error));
    listener.on('end', () => this.lost(listener, undefined));
    listener.on('notification', (message) => this.notified(message.payload));
    try {
      await listener.connect();
      await listener.query(`LISTEN ${NOTIFY_CHANNEL}`);
    } catch (error) {
      listener.removeAllListeners('end');
      await listener.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await listener.end().catch(() => {});
      return;
    }
    this.listener = listener;
    this.reconnectDelay = RECONNECT_MIN_MS;
  }

  private lost(listener: pg.Client, error: Error | undefined): void {
    if (this.listener !== listener || this.closed) return;
    this.listener = undefined;
    this.reconnects++;
    this.log.warn('change feed connection lost: reconnecting', { error: error ?? 'connection ended' });
    listener.removeAllListeners('end');
    void listener.end().catch(() => {});
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.closed) return;
    this.reconnectTimer = setTimeout(() => {
      this.listen().then(
        () => this.wake(), // notifications sent while away are lost: read the log from where it was
        (error: unknown) => {
          this.log.debug('change feed reconnect failed', { error });
          this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
          this.reconnectLater();
        },
      );
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
  }
}

/** A stored record as JSON, or its text when it is not JSON (the registry then refuses to serve it). */
function parsed(record: string | null): unknown {
  if (record === null) return null;
  try {
    return JSON.parse(record);
  } catch {
    return record;
  }
}
