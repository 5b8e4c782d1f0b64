// The ledger of a registry with one writer: a key-value store (SQLite, Redis, MySQL, memory) holding
// one record per name, written by this server alone (the store refuses a second server, see
// sole-writer-lock.ts). The server's memory is then the truth: a decision that changes nothing needs
// no check, a change needs no compare (nobody else could have changed the name), versions are this
// process's own count, and nothing ever comes back from the store.
import type { Change, ChangeSink, Ledger, LedgerItem, LedgerStats, Outcome } from './ledger.js';

/** The part of a DurableMap this ledger writes through; get() lets it reread a name after a timeout. */
export interface RecordMap {
  readonly description: string;
  entries(): Promise<Iterable<readonly [string, unknown]>> | AsyncIterable<readonly [string, unknown]>;
  set(key: string, value: unknown): Promise<unknown>;
  delete(key: string): Promise<unknown>;
  get?(key: string): Promise<unknown>;
}

/** Records handed to the registry at once while loading. */
const LOAD_PAGE = 1000;

const NO_STATS: LedgerStats = { applied: 0, head: 0, staleMs: 0, resyncs: 0, reconnects: 0, conflicts: 0, repeats: 0 };

export class SoleWriterLedger implements Ledger {
  readonly shared = false;
  /** The last version handed out; every change gets the next. */
  #version = 0;
  readonly #owned: boolean;

  /** `owned`: the ledger closes the map when it is closed. */
  constructor(private readonly map: RecordMap & { close?(): Promise<void> }, options: { owned?: boolean } = {}) {
    this.#owned = options.owned ?? false;
  }

  get description(): string {
    return this.map.description;
  }

  async open(sink: ChangeSink): Promise<void> {
    let page: Change[] = [];
    for await (const [name, record] of await this.map.entries()) {
      page.push({ name, version: ++this.#version, record });
      if (page.length === LOAD_PAGE) {
        sink.receive(page);
        page = [];
      }
    }
    sink.receive(page);
    sink.caughtUp(this.#version);
  }

  async commit(item: LedgerItem): Promise<Outcome> {
    if (item.next === undefined) return { kind: 'ok', version: item.expect };
    await (item.next === null ? this.map.delete(item.name) : this.map.set(item.name, item.next));
    return { kind: 'ok', version: ++this.#version };
  }

  touch(): void {} // the registry keeps liveness in memory: it alone answers this registry's peers

  get reread(): ((name: string) => Promise<Change>) | undefined {
    const { get } = this.map;
    if (!get) return undefined;
    return async (name) => ({ name, version: ++this.#version, record: (await get.call(this.map, name)) ?? null });
  }

  caughtUp(): Promise<void> {
    return Promise.resolve();
  }

  stats(): LedgerStats {
    return { ...NO_STATS, applied: this.#version, head: this.#version };
  }

  async close(): Promise<void> {
    if (this.#owned) await this.map.close?.();
  }
}
