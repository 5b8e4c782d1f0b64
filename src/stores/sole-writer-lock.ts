// One server per single-writer store. SQLite, Redis, MySQL and memory:// stores hold a registry that
// one server writes (the sole-writer ledger trusts its own memory), so a second server started on the
// same store must be refused at start, saying by whom when the store can tell. Each store holds the
// claim in a way that is released when the holder dies, without anyone cleaning up:
// - sqlite://  the connection's exclusive lock (locking_mode=EXCLUSIVE): the OS drops it with the
//              process; who holds it is in a small file beside the database, "<path>-owner"
// - mysql://   GET_LOCK on a connection of its own: the database drops it with the connection
// - redis://   a lease key renewed every few seconds: it lapses after LEASE_MS without renewals
// - memory://  a registry of the names open in this process, released on close
import { hostname } from 'node:os';
import { StoreError } from './store-error.js';

/** Who holds a store: written where the store keeps it, quoted when another server is refused. */
export interface Holder {
  pid: number;
  host: string;
  since: string;
}

export const thisHolder = (): Holder => ({ pid: process.pid, host: hostname(), since: new Date().toISOString() });

/** How a Holder record reads, whatever the store handed back. */
export function describeHolder(holder: unknown): string | undefined {
  const { pid, host, since } = (holder ?? {}) as Partial<Holder>;
  if (typeof pid !== 'number' || typeof host !== 'string') return undefined;
  return `pid ${pid} on ${host}${typeof since === 'string' ? ` since ${since}` : ''}`;
}

/**
 * The refusal: the store is in use (by whom, when known), a store of its kind has one writer, and
 * what to do: stop the other server, wait for its claim to lapse (`wait`), or use PostgreSQL.
 */
export function inUse(description: string, by: string | undefined, wait?: string): StoreError {
  const who = by === undefined ? 'another index server' : `another index server (${by})`;
  const kind = /^[a-z]+:/i.exec(description)?.[0] ?? 'this';
  return new StoreError(
    'STORE_IN_USE',
    `${description} is in use by ${who}: a ${kind}// store has one writer. Stop that server first${wait ? `, or ${wait}` : ''}; ` +
      'for several servers on one registry, use postgresql://',
  );
}
