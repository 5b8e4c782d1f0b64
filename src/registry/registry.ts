// The index server's model: who is registered, where they are, what they share. It answers queries
// from memory and writes every change through to its ledger (src/stores/ledger.ts) before anyone can
// see it: a mutation decides on the state it holds, commits the decision, and only then applies it
// here and returns. Mutations of one name run one after another (a promise chain per name); other
// names and all queries carry on meanwhile, so a slow store never delays a read. On a shared store
// (several servers) a decision is checked against the version it was taken at, and the changes the
// other servers make arrive through the same adopt() as this server's own.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FileEntry, PublishedFile } from '../generated/types.js';
import { silentLogger, type Logger } from '../log/index.js';
import { show } from '../protocol/index.js';
import type { Change, ChangeSink, Ledger, LedgerItem, LedgerStats, Outcome, RequestKey } from '../stores/ledger.js';
import { SoleWriterLedger, type RecordMap } from '../stores/sole-writer-ledger.js';
import { canonicalIp, contactKey, isUnspecified, type UdpContact } from './addresses.js';
import { RegistryError, type RegistryErrorCode } from './errors.js';
import { PeerState, problemWithStored, type Observed, type PeerContact, type PeerView, type StoredPeer } from './record.js';
import { insertSorted, itself, removeSorted } from './sorted.js';
import { WordIndex, type Matches, type QueryRefusal } from './words/word-index.js';

/** The part of src/stores' DurableMap a registry with one writer needs; writes resolve once durable. */
export interface RegistryStore extends RecordMap {
  set(key: string, value: StoredPeer): Promise<unknown>;
}

/** Who sends a request: the token it carries (if any), the datagram's source, and which request it is. */
export interface Credentials {
  token?: string | undefined;
  from: UdpContact;
  /** A shared store keeps the outcome under it, so that a retry through another server gets the same. */
  request?: RequestKey | undefined;
}

export interface RegistryOptions {
  /** Milliseconds since the epoch; injectable so expiry can be tested without waiting. */
  clock?: () => number;
  logger?: Logger;
  /** Why an entry may not be published (undefined when it may): e.g. no reply page could hold it. */
  entryRule?: (peerName: string, entry: FileEntry) => string | undefined;
  maxFilesPerPeer?: number;
  /**
   * How often, at most, a shared store is told that a peer was heard from (its expiry runs on the
   * store's clock). 0: never (nothing expires).
   */
  tellSeenEveryMs?: number;
  /**
   * How long the server lets a registration go unheard before it expires (0: never). Only told, so a
   * refusal of a taken name can say when it frees up; the server's sweep expires registrations.
   */
  expireAfterMs?: number;
}

/**
 * Files one peer may share. Each change rewrites the peer's whole record in the store (one key per
 * peer), so this caps one write at about 1.5 MB of JSON and one peer's share of memory at ~3 MB.
 */
export const MAX_FILES_PER_PEER = 10_000;

/** Secret bits in a token: 128, as the brief asks (32 hex characters). */
const TOKEN_BYTES = 16;

/** Longest store error message quoted back to a client (reasons stay readable and within the schema). */
const MAX_STORE_DETAIL_CHARS = 160;

export interface RegistrySnapshot {
  peers: StoredPeer[];
}

/** What one decision about a name does: its result, the record it writes (null: removes), what to log. */
interface Decision<T> {
  result: T;
  next?: StoredPeer | null;
  /** Logged once the change is committed and applied. */
  done?: () => void;
}

/** The outcome a shared store keeps for a retry through another server: the result, or the refusal. */
type StoredOutcome = { ok: unknown } | { refused: { code: RegistryErrorCode; reason: string } };

export class Registry {
  private readonly peers = new Map<string, PeerState>();
  /** Registered names in code-unit order, for RETRIEVE-ALL paging. */
  private readonly sortedNames: string[] = [];
  /** File name → the peers sharing it, in name order: SEARCH-FILE without touching the store. */
  private readonly holders = new Map<string, PeerState[]>();
  /** Every key of `holders` under each of its words: SEARCH-WORDS. Follows `holders` exactly. */
  private readonly words = new WordIndex();
  private readonly byToken = new Map<string, PeerState>();
  /** `ip|udpPort` → the peers registered there (several names may share one socket). */
  private readonly byContact = new Map<string, Set<PeerState>>();
  private readonly queues = new Map<string, Promise<void>>();
  /** Names whose observed address is being stored: the requests that follow it from the new source wait for that one. */
  private readonly observing = new Set<string>();
  /**
   * Versions of names this server removed ahead of the shared change log: an older change of the
   * name, delivered later, must not bring it back. Dropped once the log has been followed past them.
   */
  private readonly tombstones = new Map<string, number>();
  /** The change-log revision followed so far. */
  private followed = 0;
  private publishedFiles = 0;
  private changes = 0;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly entryRule: (peerName: string, entry: FileEntry) => string | undefined;
  private readonly maxFilesPerPeer: number;
  private readonly tellSeenEveryMs: number;
  private readonly expireAfterMs: number;

  private constructor(private readonly ledger: Ledger, options: RegistryOptions) {
    this.clock = options.clock ?? Date.now;
    this.log = options.logger ?? silentLogger;
    this.entryRule = options.entryRule ?? (() => undefined);
    this.maxFilesPerPeer = options.maxFilesPerPeer ?? MAX_FILES_PER_PEER;
    this.tellSeenEveryMs = options.tellSeenEveryMs ?? 0;
    this.expireAfterMs = options.expireAfterMs ?? 0;
  }

  /**
   * Loads every stored peer (records that cannot be served are logged and left in the store
   * untouched), then follows the changes other servers make, on a shared store. A key-value store
   * is written by this registry alone.
   */
  static async open(store: RegistryStore | Ledger, options: RegistryOptions = {}): Promise<Registry> {
    const ledger = 'commit' in store ? store : new SoleWriterLedger(store);
    const registry = new Registry(ledger, options);
    await ledger.open(registry.sink);
    return registry;
  }

  get description(): string {
    return this.ledger.description;
  }

  /** True when other servers change the same registry. */
  get shared(): boolean {
    return this.ledger.shared;
  }

  get peerCount(): number {
    return this.peers.size;
  }

  get fileCount(): number {
    return this.publishedFiles;
  }

  /**
   * Counts the changes a query can see (registrations, contacts, files), whoever made them. An answer
   * computed at one revision holds until the next: the server keeps encoded pages that long
   * (server/replies/kept-pages.ts).
   */
  get revision(): number {
    return this.changes;
  }

  /** How far this server follows the store (all zeros for a store with one writer). */
  storeStats(): LedgerStats {
    return this.ledger.stats();
  }

  peer(name: string): PeerView | undefined {
    return this.peers.get(name);
  }

  /** Registered names in code-unit order. */
  names(): readonly string[] {
    return this.sortedNames;
  }

  /** The peers sharing a file (exact, NFC-normalised name), in name order. */
  holdersOf(file: string): readonly PeerView[] {
    return this.holders.get(file) ?? NOBODY;
  }

  /** The shared file names holding every word of `query`, by rank (src/registry/words/), or why not. */
  matchWords(query: string): Matches | QueryRefusal {
    return this.words.match(query);
  }

  /** Distinct file names shared, and distinct words in them. */
  get wordStats(): { names: number; words: number } {
    return { names: this.words.size, words: this.words.wordCount };
  }

  /** Every registration as stored, in name order: lets tests compare the whole state. */
  snapshot(): RegistrySnapshot {
    return { peers: this.sortedNames.map((name) => this.peers.get(name)!.toStored()) };
  }

  /**
   * Resolves once this server has every change committed before the call (through any server), or
   * after a short wait: a read that would miss (an unknown peer, "register first") asks it first.
   */
  caughtUp(): Promise<void> {
    return this.ledger.caughtUp();
  }

  /** Refuses a query from a client with no registration; otherwise marks its registrations as seen. */
  requireClient(credentials: Credentials): void {
    const now = this.clock();
    if (credentials.token !== undefined) {
      const peer = this.byToken.get(credentials.token);
      if (!peer) {
        throw new RegistryError('NOT_REGISTERED', 'register first: token matches no registration (it may have expired; send REGISTER)');
      }
      this.seen(peer, now);
      this.followMapping(peer, credentials);
      return;
    }
    const here = this.byContact.get(contactKey(credentials.from.ip, credentials.from.port));
    if (!here) {
      throw new RegistryError('NOT_REGISTERED', 'register first: this address has no registration (send REGISTER, or give your token)');
    }
    for (const peer of here) this.seen(peer, now);
  }

  /** The registration a query comes from (its token's, else the first at its source); refuses like requireClient. */
  client(credentials: Credentials): PeerView {
    this.requireClient(credentials);
    if (credentials.token !== undefined) return this.byToken.get(credentials.token)!;
    return [...this.byContact.get(contactKey(credentials.from.ip, credentials.from.port))!][0]!;
  }

  /** Registers a free name, or refreshes the caller's own registration (new contact, same files and token). */
  register(name: string, contact: PeerContact, credentials: Credentials, relayPort?: number): Promise<{ token: string; created: boolean }> {
    return this.decide<{ token: string; created: boolean }>(name, credentials.request, (existing) => {
      const wanted = reachable(contact);
      if (existing) {
        // The brief: "same token, or same IP and UDP port". A peer can hold a stale token (its
        // DE-REGISTER and next REGISTER took effect but both answers were lost); from its registered
        // address it must still get its name back, as it would by sending no token at all.
        const fromHome = existing.ip === credentials.from.ip && existing.udpPort === credentials.from.port;
        const refusal = fromHome ? undefined : this.authorisation(existing, credentials);
        if (refusal) throw new RegistryError('NAME_TAKEN', this.takenReason(existing, credentials));
        this.seen(existing, this.clock());
        const seenAt = observedAt(credentials.from);
        const same = sameContact(existing, wanted) && sameObserved(existing, seenAt) && existing.relayPort === relayPort;
        const next = same ? undefined : existing.toStored(wanted, undefined, seenAt, relayPort);
        return { result: { token: existing.token, created: false }, next, done: () => this.log.info('peer refreshed', { name, ...wanted }) };
      }
      const token = randomBytes(TOKEN_BYTES).toString('hex');
      const next = new PeerState(0, name, wanted.ip, wanted.udpPort, wanted.tcpPort, token, this.clock(), new Map(), 0).toStored(wanted, [], observedAt(credentials.from), relayPort);
      return { result: { token, created: true }, next, done: () => this.log.info('peer registered', { name, ...wanted }) };
    });
  }

  /** Removes a registration and its files; a name that is not registered is already done. */
  deregister(name: string, credentials: Credentials): Promise<void> {
    return this.decide(name, credentials.request, (peer) => {
      if (!peer) return { result: undefined };
      this.authorise(peer, credentials);
      return { result: undefined, next: null, done: () => this.log.info('peer de-registered', { name }) };
    });
  }

  /** Adds files to the peer's list (a name published again gets the new size and hash). All or nothing. */
  publish(name: string, files: readonly PublishedFile[], credentials: Credentials): Promise<void> {
    return this.decide(name, credentials.request, (found) => {
      const peer = this.registered(name, found);
      this.authorise(peer, credentials);
      const batch = new Map<string, FileEntry>();
      files.forEach((file, index) => {
        const entry = toEntry(file);
        const problem = problemWithEntry(entry) ?? this.entryRule(name, entry);
        if (problem) throw new RegistryError('BAD_FILE', `files[${index}] ${show(entry.name)} ${problem}`);
        batch.set(entry.name, entry);
      });
      let added = 0;
      for (const [fileName, entry] of batch) {
        const old = peer.files.get(fileName);
        if (!old) added++;
        else if (sameEntry(old, entry)) batch.delete(fileName);
      }
      const total = peer.files.size + added;
      if (total > this.maxFilesPerPeer) {
        throw new RegistryError(
          'TOO_MANY_FILES',
          `files would make ${show(name)} share ${total} files; the limit is ${this.maxFilesPerPeer} per peer (remove some first)`,
        );
      }
      if (batch.size === 0) return { result: undefined };
      const merged = [...peer.files.values()].map((entry) => batch.get(entry.name) ?? entry);
      for (const entry of batch.values()) if (!peer.files.has(entry.name)) merged.push(entry);
      return { result: undefined, next: peer.toStored(peer, merged), done: () => this.log.debug('files published', { name, changed: batch.size, files: merged.length }) };
    });
  }

  /** Stops sharing files by name; names the peer does not share are nothing to do. All or nothing. */
  remove(name: string, files: readonly string[], credentials: Credentials): Promise<void> {
    return this.decide(name, credentials.request, (found) => {
      const peer = this.registered(name, found);
      this.authorise(peer, credentials);
      const gone = new Set(files.filter((file) => peer.files.has(file)));
      if (gone.size === 0) return { result: undefined };
      const kept = [...peer.files.values()].filter((entry) => !gone.has(entry.name));
      return { result: undefined, next: peer.toStored(peer, kept), done: () => this.log.debug('files removed', { name, removed: gone.size, files: kept.length }) };
    });
  }

  /** Moves a registration to a new IP, UDP port and TCP port; returns the contact now registered. */
  updateContact(name: string, contact: PeerContact, credentials: Credentials): Promise<PeerContact> {
    return this.decide(name, credentials.request, (found) => {
      const peer = this.registered(name, found);
      this.authorise(peer, credentials);
      const wanted = reachable(contact);
      const next = sameContact(peer, wanted) ? undefined : peer.toStored(wanted);
      return { result: wanted, next, done: () => this.log.info('contact updated', { name, ...wanted }) };
    });
  }

  /**
   * The registration a client asks about with WHO-AM-I: its token's, else the one registered at the
   * datagram's source. With the token from a new source (its NAT mapping changed), the observed
   * address moves there before the answer.
   */
  async whoAmI(credentials: Credentials): Promise<PeerView> {
    const peer = this.client({ ...credentials, request: undefined });
    await this.observe(peer.name, credentials.token, credentials.from, credentials.request);
    return this.peers.get(peer.name) ?? peer;
  }

  /**
   * Expires registrations not heard from for `afterMs`, through the same path as DE-REGISTER: on a
   * shared store, by the store's clock, one server sweeping at a time. Returns the names expired; a
   * store failure leaves them for the next sweep.
   */
  async expireStale(afterMs: number): Promise<string[]> {
    if (this.ledger.expire) {
      let gone: Change[];
      try {
        gone = await this.ledger.expire(afterMs);
      } catch (error) {
        this.log.warn('expiry failed', { error });
        return [];
      }
      for (const change of gone) this.adopt(change, 'peer expired');
      return gone.map((change) => change.name);
    }
    const isStale = (peer: PeerState) => this.clock() - peer.lastSeen >= afterMs;
    const candidates = [...this.peers.values()].filter(isStale).map((peer) => peer.name);
    const expired: string[] = [];
    await Promise.all(
      candidates.map((name) =>
        // Re-checked in the queue: a refresh may have arrived since the sweep looked.
        this.decide(name, undefined, (peer) => (peer && isStale(peer) ? { result: true, next: null } : { result: false }))
          .then((gone) => {
            if (!gone) return;
            expired.push(name);
            this.log.info('peer expired', { name });
          })
          .catch((error: unknown) => this.log.warn('expiry failed', { name, error })),
      ),
    );
    return expired;
  }

  /** Resolves once every mutation queued so far has finished (used by shutdown). */
  async settled(): Promise<void> {
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  // ——— internals ———

  /** Where the ledger delivers stored peers and changes made through other servers. */
  private readonly sink: ChangeSink = {
    receive: (changes) => {
      for (const change of changes) this.adopt(change);
    },
    caughtUp: (revision) => {
      this.followed = revision;
      for (const [name, version] of this.tombstones) if (version <= revision) this.tombstones.delete(name);
    },
    keepOnly: (present, revision) => {
      for (const peer of [...this.peers.values()]) {
        if (peer.version <= revision && !present.has(peer.name)) this.forget(peer);
      }
      this.sink.caughtUp(revision);
    },
  };

  /**
   * Decides one request about `name` on the state this server has, and commits the decision. On a
   * shared store every decision is checked against the version it was taken at, refusals and no-ops
   * too: if the name changed meanwhile (through another server), its current state comes back and
   * the request is decided again on it, once, alone. (Retried optimistically instead, a request was
   * measured losing ten races in a row while two other servers kept publishing for the same peer:
   * the winner always knows the newest version first.) A request the store already answered gets
   * that answer.
   */
  private decide<T>(name: string, request: RequestKey | undefined, step: (peer: PeerState | undefined) => Decision<T>): Promise<T> {
    return this.serialised(name, async () => {
      let taken = this.take(name, request, step);
      if (taken.item === undefined) return settle(taken.decision, taken.refusal);
      let outcome = await this.commit(() => this.ledger.commit(taken.item!), name);
      if (outcome.kind === 'conflict') {
        // Lost a race with another server: decide again on the state it left, while nobody else can
        // commit, so that a server keeping the name busy cannot make this request lose every time.
        this.adopt(outcome.current);
        const { commitAlone } = this.ledger;
        if (!commitAlone) throw new RegistryError('STORE_BUSY', `${show(name)} changed through another server while this request was decided; try again`);
        outcome = await this.commit(() => commitAlone.call(this.ledger, name, (current) => {
          this.adopt(current);
          taken = this.take(name, request, step);
          return taken.item ?? { name, expect: this.peers.get(name)?.version ?? 0 };
        }), name);
        if (outcome.kind === 'conflict') throw new RegistryError('STORE_BUSY', `${show(name)} kept changing through other servers; try again`);
      }
      if (outcome.kind === 'repeat') return replay<T>(outcome.outcome);
      const { decision, refusal, item } = taken;
      if (item?.next !== undefined) this.adopt({ name, version: outcome.version, record: item.next }, undefined, true);
      decision?.done?.();
      return settle(decision, refusal);
    });
  }

  /**
   * One decision on the state this server holds, and the item that commits it: none when nothing is
   * written and nobody else writes (a key-value store: what this server holds is the truth).
   */
  private take<T>(name: string, request: RequestKey | undefined, step: (peer: PeerState | undefined) => Decision<T>) {
    const peer = this.peers.get(name);
    let decision: Decision<T> | undefined;
    let refusal: RegistryError | undefined;
    try {
      decision = step(peer);
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
      refusal = error;
    }
    const next = decision?.next;
    if (next === undefined && !this.ledger.shared) return { decision, refusal, item: undefined };
    const item: LedgerItem = { name, expect: peer?.version ?? 0, next };
    if (request && this.ledger.shared) {
      item.request = request;
      item.outcome = (refusal ? { refused: { code: refusal.code, reason: refusal.reason } } : { ok: decision!.result ?? null }) satisfies StoredOutcome;
    }
    return { decision, refusal, item };
  }

  private async commit(commit: () => Promise<Outcome>, name: string): Promise<Outcome> {
    try {
      return await commit();
    } catch (cause) {
      this.log.error('store write failed', { store: this.ledger.description, error: cause });
      if ((cause as { code?: unknown }).code === 'STORE_UNCONFIRMED') {
        this.rereadLater(name);
        throw new RegistryError(
          'STORE_UNCONFIRMED',
          `the registry store did not confirm this change (${brief(cause)}); it may still be applied: send the same request again to learn whether it was`,
          { cause },
        );
      }
      throw new RegistryError('STORE_UNAVAILABLE', `the registry store is unavailable (${brief(cause)}); nothing was changed, try again`, { cause });
    }
  }

  /**
   * After a write whose outcome is unknown, the store's own state of the name, once it answers. A
   * shared store's change log brings it anyway; a key-value store is asked, in the name's queue.
   */
  private rereadLater(name: string): void {
    const { reread } = this.ledger;
    if (this.ledger.shared || !reread) return;
    void this.serialised(name, async () => this.adopt(await reread.call(this.ledger, name), 'peer reread after an unconfirmed write'))
      .catch((error: unknown) => this.log.warn('reread failed', { name, error }));
  }

  private serialised<T>(name: string, step: () => Promise<T>): Promise<T> {
    const result = (this.queues.get(name) ?? DONE).then(step);
    const tail = result.then(noop, noop);
    this.queues.set(name, tail);
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return result;
  }

  /**
   * Why REGISTER may not have a name, and what to do: the name frees up when its registration
   * expires, which a live peer's refreshes keep from happening, and a gone one's do not.
   */
  private takenReason(holder: PeerState, credentials: Credentials): string {
    const detail = credentials.token === undefined ? '' : ' (the token given is not its token)';
    const heard = this.clock() - holder.lastSeen;
    const expiry = this.expireAfterMs > 0
      ? `last heard from ${spellDuration(heard)} ago; if that peer is gone, the name expires in ${spellDuration(Math.max(0, this.expireAfterMs - heard))}: wait, or pick another name`
      : 'registrations never expire on this server: stop that peer, or pick another name';
    return `name ${show(holder.name)} is already registered by another client${detail}; ${expiry}`;
  }

  private registered(name: string, peer: PeerState | undefined): PeerState {
    if (!peer) throw new RegistryError('NOT_REGISTERED', `register first: ${show(name)} is not registered`);
    return peer;
  }

  /** Why these credentials may not change this peer (undefined when they may). */
  private authorisation(peer: PeerState, { token, from }: Credentials): string | undefined {
    if (token !== undefined) {
      return sameSecret(token, peer.token) ? undefined : `token does not match the registration of ${show(peer.name)}`;
    }
    if (peer.ip === from.ip && peer.udpPort === from.port) return undefined;
    return `not authorised to change ${show(peer.name)}: give its token, or send from the IP and UDP port it registered`;
  }

  private authorise(peer: PeerState, credentials: Credentials): void {
    const refusal = this.authorisation(peer, credentials);
    if (refusal) throw new RegistryError('NOT_AUTHORISED', refusal);
    this.seen(peer, this.clock());
    this.followMapping(peer, credentials);
  }

  /**
   * A request with the peer's token from a new source: its NAT mapping changed, and its observed
   * address follows (after this request, in the name's queue). Only the token moves it: a datagram
   * from anywhere else cannot change where another peer is seen.
   */
  private followMapping(peer: PeerState, { token, from }: Credentials): void {
    if (token === undefined || sameObserved(peer, observedAt(from)) || this.observing.has(peer.name)) return;
    // One at a time per name: every read from the new source would otherwise queue a decision (on a
    // shared store, a commit) until the first one lands.
    this.observing.add(peer.name);
    void this.observe(peer.name, token, from)
      .catch((error: unknown) => this.log.warn('observed address not stored', { name: peer.name, error }))
      .finally(() => this.observing.delete(peer.name));
  }

  /** Stores `from` as where the peer holding `token` is seen (nothing to do when it is already). */
  private observe(name: string, token: string | undefined, from: UdpContact, request?: RequestKey): Promise<void> {
    return this.decide(name, request, (peer) => {
      const seenAt = observedAt(from);
      if (!peer || token === undefined || !sameSecret(token, peer.token) || sameObserved(peer, seenAt)) return { result: undefined };
      return { result: undefined, next: peer.toStored(peer, undefined, seenAt), done: () => this.log.info('observed address moved', { name, ip: from.ip, udpPort: from.port }) };
    });
  }

  /** An authorised request from the peer: it is alive (a shared store hears of it now and then). */
  private seen(peer: PeerState, now: number): void {
    peer.lastSeen = now;
    if (this.tellSeenEveryMs > 0 && this.ledger.shared && now - peer.toldSeenAt >= this.tellSeenEveryMs) {
      peer.toldSeenAt = now;
      this.ledger.touch(peer.name);
    }
  }

  /**
   * Makes a name's state the one in `change`, unless this server has it already or newer: every
   * change goes through here, this server's own (trusted: built by this code) and those made
   * through other servers, so every index follows them all alike.
   */
  private adopt(change: Change, event?: string, trusted = false): void {
    const { name, version } = change;
    let current = this.peers.get(name);
    if (version <= (current?.version ?? this.tombstones.get(name) ?? 0)) return;
    const record = change.record === null ? null : trusted ? (change.record as StoredPeer) : this.servable(name, change.record);
    if (record === null) {
      if (current) this.forget(current);
      if (this.ledger.shared && version > this.followed) this.tombstones.set(name, version);
      if (current && event) this.log.info(event, { name });
      return;
    }
    this.tombstones.delete(name);
    // The name was registered anew meanwhile (by whoever): the old registration goes, files and all.
    if (current && (current.token !== record.token || current.registeredAt !== record.registeredAt)) {
      this.forget(current);
      current = undefined;
    }
    if (!current) {
      this.apply(PeerState.fromStored(record, version, this.clock()));
      return;
    }
    current.version = version;
    this.changeContact(current, record);
    this.changeObserved(current, { observedIp: record.observedIp ?? record.ip, observedUdpPort: record.observedUdpPort ?? record.udpPort });
    if (current.relayPort !== record.relayPort) {
      current.relayPort = record.relayPort;
      this.changes++;
    }
    this.changeFiles(current, record.files);
  }

  /** A record from the store as the registry serves it, or null (logged) when it cannot be served. */
  private servable(name: string, value: unknown): StoredPeer | null {
    const problem = problemWithStored(name, value);
    if (problem) {
      this.log.error('stored peer skipped', { key: name, problem });
      return null;
    }
    const stored = value as StoredPeer;
    const canonical = { ...stored, ip: canonicalIp(stored.ip) };
    if (stored.observedIp !== undefined) canonical.observedIp = canonicalIp(stored.observedIp);
    return canonical;
  }

  private changeContact(peer: PeerState, wanted: PeerContact): void {
    if (sameContact(peer, wanted)) return;
    this.unlistContact(peer);
    peer.ip = wanted.ip;
    peer.udpPort = wanted.udpPort;
    peer.tcpPort = wanted.tcpPort;
    this.listContact(peer);
    this.changes++;
  }

  private changeObserved(peer: PeerState, observed: Observed): void {
    if (sameObserved(peer, observed)) return;
    peer.observedIp = observed.observedIp;
    peer.observedUdpPort = observed.observedUdpPort;
    this.changes++;
  }

  /** Shares and unshares what differs between the peer's files and `files`; equal entries stay as they are. */
  private changeFiles(peer: PeerState, files: readonly FileEntry[]): void {
    const wanted = new Map<string, FileEntry>();
    for (const entry of files) wanted.set(entry.name, entry);
    for (const file of [...peer.files.keys()]) if (!wanted.has(file)) this.unshare(peer, file);
    for (const entry of files) {
      const old = peer.files.get(entry.name);
      if (!old || !sameEntry(old, entry)) this.share(peer, entry);
    }
  }

  private forget(peer: PeerState): void {
    this.peers.delete(peer.name);
    removeSorted(this.sortedNames, peer.name, itself);
    this.byToken.delete(peer.token);
    this.unlistContact(peer);
    for (const file of [...peer.files.keys()]) this.unshare(peer, file);
    this.changes++;
  }

  /** Adds a loaded or newly registered peer to every index. */
  private apply(peer: PeerState): void {
    this.peers.set(peer.name, peer);
    insertSorted(this.sortedNames, peer.name, itself);
    this.byToken.set(peer.token, peer);
    this.listContact(peer);
    for (const entry of peer.files.values()) this.addHolder(peer, entry.name);
    this.publishedFiles += peer.files.size;
    this.changes++;
  }

  private share(peer: PeerState, entry: FileEntry): void {
    if (!peer.files.has(entry.name)) {
      this.addHolder(peer, entry.name);
      this.publishedFiles++;
    }
    peer.files.set(entry.name, entry);
    peer.filesChanged();
    this.changes++;
  }

  private unshare(peer: PeerState, file: string): void {
    if (!peer.files.delete(file)) return;
    this.publishedFiles--;
    peer.filesChanged();
    this.changes++;
    const list = this.holders.get(file);
    if (!list) return;
    removeSorted(list, peer.name, nameOf);
    if (list.length > 0) return;
    this.holders.delete(file);
    this.words.remove(file);
  }

  private addHolder(peer: PeerState, file: string): void {
    const list = this.holders.get(file);
    if (list) {
      insertSorted(list, peer, nameOf);
      return;
    }
    this.holders.set(file, [peer]);
    this.words.add(file);
  }

  private listContact(peer: PeerState): void {
    const key = contactKey(peer.ip, peer.udpPort);
    const here = this.byContact.get(key);
    if (here) here.add(peer);
    else this.byContact.set(key, new Set([peer]));
  }

  private unlistContact(peer: PeerState): void {
    const key = contactKey(peer.ip, peer.udpPort);
    const here = this.byContact.get(key);
    here?.delete(peer);
    if (here?.size === 0) this.byContact.delete(key);
  }
}

/** A decision's result, or its refusal. */
function settle<T>(decision: Decision<T> | undefined, refusal: RegistryError | undefined): T {
  if (refusal) throw refusal;
  return decision!.result;
}

/** The outcome the store kept for this request: its result again, or its refusal again. */
function replay<T>(stored: unknown): T {
  const outcome = stored as StoredOutcome;
  if ('refused' in outcome) throw new RegistryError(outcome.refused.code, outcome.refused.reason);
  return outcome.ok as T;
}

const sameContact = (a: PeerContact, b: PeerContact): boolean => a.ip === b.ip && a.udpPort === b.udpPort && a.tcpPort === b.tcpPort;
const sameObserved = (a: Observed, b: Observed): boolean => a.observedIp === b.observedIp && a.observedUdpPort === b.observedUdpPort;
/** A datagram's source as an observed address (sources reach the registry in canonical form). */
const observedAt = (from: UdpContact): Observed => ({ observedIp: from.ip, observedUdpPort: from.port });

const NOBODY: readonly PeerView[] = Object.freeze([]);
const DONE: Promise<void> = Promise.resolve();
const noop = (): void => {};
const nameOf = (peer: PeerState): string => peer.name;

function toEntry(file: PublishedFile): FileEntry {
  if (typeof file === 'string') return { name: file };
  const entry: FileEntry = { name: file.name };
  if (file.size !== undefined) entry.size = file.size;
  if (file.sha256 !== undefined) entry.sha256 = file.sha256;
  if (file.piecesRoot !== undefined) entry.piecesRoot = file.piecesRoot;
  if (file.chunks !== undefined) entry.chunks = file.chunks;
  return entry;
}

/** Entries are flat records (name, size, sha256, and whatever the spec adds): equal when every field is. */
function sameEntry(a: FileEntry, b: FileEntry): boolean {
  if (a === b) return true;
  const fields = Object.keys(a) as Array<keyof FileEntry>;
  if (fields.length !== Object.keys(b).length) return false;
  return fields.every((field) => a[field] === b[field]);
}

/** With the `u` flag a paired surrogate is one code point, so this matches only unpaired halves. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** The registry's own rules on top of the schema's: the name must survive UTF-8 (peers serve files by it). */
function problemWithEntry(entry: FileEntry): string | undefined {
  return !LONE_SURROGATE.test(entry.name) ? undefined : 'contains an unpaired surrogate (\\ud800-\\udfff); file names must be valid Unicode';
}

/** A contact the registry can store: canonical IP, and not the unspecified address. */
function reachable(contact: PeerContact): PeerContact {
  const ip = canonicalIp(contact.ip);
  if (isUnspecified(ip)) {
    throw new RegistryError('BAD_ADDRESS', `ip ${show(contact.ip)} is the unspecified address; give the address other peers can reach you at`);
  }
  return { ip, udpPort: contact.udpPort, tcpPort: contact.tcpPort };
}

/** Constant-time comparison: a token check must not tell an attacker how many characters matched. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function brief(cause: unknown): string {
  const text = (cause instanceof Error ? cause.message : String(cause)).replace(/\s+/g, ' ').trim() || 'no detail';
  return text.length > MAX_STORE_DETAIL_CHARS ? `${text.slice(0, MAX_STORE_DETAIL_CHARS)}…` : text;
}

/** `45 s`, `4 min 40 s`, `2 h 5 min`: a wait as a person reads it. */
function spellDuration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
}
