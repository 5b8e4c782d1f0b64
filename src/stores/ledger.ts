// The contract between the registry and the store of record: how a change is committed and how
// changes made by other servers come back. Records are opaque here (the registry's own JSON, stored
// whole and handed back as parsed); the registry validates what it loads.
//
// Every decision the registry takes about one name is one item, checked against the version it was
// taken at (compare-and-set): a change commits only if nobody changed the name meanwhile; a refusal or
// a no-op commits nothing but is checked the same way on a shared store, so that it is never decided
// on a stale copy. Two implementations:
// - sole-writer-ledger.ts: one server on a key-value store (SQLite, Redis, MySQL, memory); the
//   server's memory is the truth, so checks pass at once and nothing comes back.
// - shared-registry/: PostgreSQL, any number of servers; versions are revisions of one ordered
//   change log that every server follows.

/** One name's state as of a version: its record, or null when it is not registered. */
export interface Change {
  name: string;
  /** Rises with every change of the name, and never repeats, even across a new registration. */
  version: number;
  record: unknown;
}

/** Identifies a request across servers: its client and rq, and a digest of its bytes. */
export interface RequestKey {
  /** `ip|port|rq` */
  key: string;
  digest: string;
}

export interface LedgerItem {
  name: string;
  /** The version the decision was taken at; 0 when the name was not registered. */
  expect: number;
  /** The new record, null to remove the name; absent when the decision changes nothing. */
  next?: unknown;
  /** The request this decision answers, and the outcome to give a retry of it (shared stores only). */
  request?: RequestKey;
  outcome?: unknown;
}

export type Outcome =
  /** Committed (or, for a decision that changes nothing, still true): the name's version now. */
  | { kind: 'ok'; version: number }
  /** The name changed meanwhile: its state now; decide again on it. */
  | { kind: 'conflict'; current: Change }
  /** The same request was already answered (through another server): its stored outcome. */
  | { kind: 'repeat'; outcome: unknown };

/** Where a ledger delivers what it reads: at start, after a resync, and changes made elsewhere. */
export interface ChangeSink {
  /** States in version order; a state the registry already has (or has newer) is skipped. */
  receive(changes: readonly Change[]): void;
  /** Every change up to `revision` has been delivered. */
  caughtUp(revision: number): void;
  /** After a full reread at `revision`: names not in `present` and not changed since are gone. */
  keepOnly(present: ReadonlySet<string>, revision: number): void;
}

export interface LedgerStats {
  /** Last revision applied from the change log, and the newest one known. */
  applied: number;
  head: number;
  /** Milliseconds since the store last answered the change feed; 0 while it keeps answering. */
  staleMs: number;
  /** Full rereads after falling behind the retained log, and reconnections of the feed. */
  resyncs: number;
  reconnects: number;
  /** Decisions taken again because the name had changed elsewhere, and retries answered from the store. */
  conflicts: number;
  repeats: number;
}

export interface Ledger {
  /** The store's URL with any password redacted. */
  readonly description: string;
  /** True when other servers change the same registry (every decision is then checked at commit). */
  readonly shared: boolean;
  /** Delivers every stored peer, page by page; then keeps delivering changes made elsewhere. */
  open(sink: ChangeSink): Promise<void>;
  /** Commits one decision with the others of this event-loop turn. Rejects with a StoreError. */
  commit(item: LedgerItem): Promise<Outcome>;
  /**
   * Takes the decision again, alone, while no other server can commit: `decide` gets the name's state
   * as stored now and returns the item to commit. For a decision that lost a race: an optimistic retry
   * could lose again, as long as other servers keep changing the name.
   */
  commitAlone?(name: string, decide: (current: Change) => LedgerItem): Promise<Outcome>;
  /** Notes that a peer was heard from (expiry of shared registries runs on the store's clock). */
  touch(name: string): void;
  /** Removes peers not heard from for `afterMs`, one server at a time; undefined: the registry sweeps itself. */
  expire?(afterMs: number): Promise<Change[]>;
  /** The state of one name as stored now (after a commit whose outcome is unknown). */
  reread?(name: string): Promise<Change>;
  /** Resolves once every change committed before the call has been delivered, or after a short wait. */
  caughtUp(): Promise<void>;
  stats(): LedgerStats;
  /** Stops following and releases what the ledger opened. */
  close(): Promise<void>;
}
