// The index server's model: who is registered, where they are, what they share. It answers queries
// from memory and writes every change through to a durable store before anyone can see it:
// a mutation computes the new record, awaits the store, and only then applies it here and returns.
// Mutations of one name run one after another (a promise chain per name); other names and all
// queries carry on meanwhile, so a slow store never delays a read.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FileEntry, PublishedFile } from '../generated/types.js';
import { silentLogger, type Logger } from '../log/index.js';
import { show } from '../protocol/index.js';
import { canonicalIp, contactKey, isUnspecified, type UdpContact } from './addresses.js';
import { RegistryError } from './errors.js';
import { PeerState, problemWithStored, type PeerContact, type PeerView, type StoredPeer } from './record.js';
import { insertSorted, itself, removeSorted } from './sorted.js';

/** The part of src/stores' DurableMap the registry needs; writes resolve once durable. */
export interface RegistryStore {
  readonly description: string;
  entries(): Promise<Iterable<readonly [string, unknown]>> | AsyncIterable<readonly [string, unknown]>;
  set(key: string, value: StoredPeer): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}

/** Who sends a request: the token it carries (if any) and the datagram's source. */
export interface Credentials {
  token?: string | undefined;
  from: UdpContact;
}

export interface RegistryOptions {
  /** Milliseconds since the epoch; injectable so expiry can be tested without waiting. */
  clock?: () => number;
  logger?: Logger;
  /** Why an entry may not be published (undefined when it may): e.g. no reply page could hold it. */
  entryRule?: (peerName: string, entry: FileEntry) => string | undefined;
  maxFilesPerPeer?: number;
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

export class Registry {
  private readonly peers = new Map<string, PeerState>();
  /** Registered names in code-unit order, for RETRIEVE-ALL paging. */
  private readonly sortedNames: string[] = [];
  /** File name → the peers sharing it, in name order: SEARCH-FILE without touching the store. */
  private readonly holders = new Map<string, PeerState[]>();
  private readonly byToken = new Map<string, PeerState>();
  /** `ip|udpPort` → the peers registered there (several names may share one socket). */
  private readonly byContact = new Map<string, Set<PeerState>>();
  private readonly queues = new Map<string, Promise<void>>();
  private publishedFiles = 0;
  private changes = 0;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly entryRule: (peerName: string, entry: FileEntry) => string | undefined;
  private readonly maxFilesPerPeer: number;

  private constructor(private readonly store: RegistryStore, options: RegistryOptions) {
    this.clock = options.clock ?? Date.now;
    this.log = options.logger ?? silentLogger;
    this.entryRule = options.entryRule ?? (() => undefined);
    this.maxFilesPerPeer = options.maxFilesPerPeer ?? MAX_FILES_PER_PEER;
  }

  /** Loads every stored peer; records that cannot be served are logged and left in the store untouched. */
  static async open(store: RegistryStore, options: RegistryOptions = {}): Promise<Registry> {
    const registry = new Registry(store, options);
    const now = registry.clock();
    for await (const [key, value] of await store.entries()) {
      const problem = problemWithStored(key, value);
      if (problem) {
        registry.log.error('stored peer skipped', { key, problem });
        continue;
      }
      const stored = value as StoredPeer;
      registry.apply(PeerState.fromStored({ ...stored, ip: canonicalIp(stored.ip) }, now));
    }
    return registry;
  }

  get description(): string {
    return this.store.description;
  }

  get peerCount(): number {
    return this.peers.size;
  }

  get fileCount(): number {
    return this.publishedFiles;
  }

  /**
   * Counts the changes a query can see (registrations, contacts, files). An answer computed at one
   * revision holds until the next: the server keeps encoded pages that long (server/kept-pages.ts).
   */
  get revision(): number {
    return this.changes;
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

  /** Every registration as stored, in name order: lets tests compare the whole state. */
  snapshot(): RegistrySnapshot {
    return { peers: this.sortedNames.map((name) => this.peers.get(name)!.toStored()) };
  }

  /** Refuses a query from a client with no registration; otherwise marks its registrations as seen. */
  requireClient(credentials: Credentials): void {
    const now = this.clock();
    if (credentials.token !== undefined) {
      const peer = this.byToken.get(credentials.token);
      if (!peer) {
        throw new RegistryError('NOT_REGISTERED', 'register first: token matches no registration (it may have expired; send REGISTER)');
      }
      peer.lastSeen = now;
      return;
    }
    const here = this.byContact.get(contactKey(credentials.from.ip, credentials.from.port));
    if (!here) {
      throw new RegistryError('NOT_REGISTERED', 'register first: this address has no registration (send REGISTER, or give your token)');
    }
    for (const peer of here) peer.lastSeen = now;
  }

  /** Registers a free name, or refreshes the caller's own registration (new contact, same files and token). */
  register(name: string, contact: PeerContact, credentials: Credentials): Promise<{ token: string; created: boolean }> {
    return this.serialised(name, async () => {
      const wanted = reachable(contact);
      const existing = this.peers.get(name);
      if (existing) {
        // The brief: "same token, or same IP and UDP port". A peer can hold a stale token (its
        // DE-REGISTER and next REGISTER took effect but both answers were lost); from its registered
        // address it must still get its name back, as it would by sending no token at all.
        const fromHome = existing.ip === credentials.from.ip && existing.udpPort === credentials.from.port;
        const refusal = fromHome ? undefined : this.authorisation(existing, credentials);
        if (refusal) {
          const detail = credentials.token === undefined ? '' : ' (the token given is not its token)';
          throw new RegistryError('NAME_TAKEN', `name ${show(name)} is already registered by another client${detail}`);
        }
        existing.lastSeen = this.clock();
        await this.changeContact(existing, wanted);
        this.log.info('peer refreshed', { name, ...wanted });
        return { token: existing.token, created: false };
      }
      const now = this.clock();
      const token = randomBytes(TOKEN_BYTES).toString('hex');
      const peer = new PeerState(name, wanted.ip, wanted.udpPort, wanted.tcpPort, token, now, new Map(), now);
      await this.persist(() => this.store.set(name, peer.toStored()));
      this.apply(peer);
      this.log.info('peer registered', { name, ...wanted });
      return { token, created: true };
    });
  }

  /** Removes a registration and its files; a name that is not registered is already done. */
  deregister(name: string, credentials: Credentials): Promise<void> {
    return this.serialised(name, async () => {
      const peer = this.peers.get(name);
      if (!peer) return;
      this.authorise(peer, credentials);
      await this.forget(peer, 'peer de-registered');
    });
  }

  /** Adds files to the peer's list (a name published again gets the new size and hash). All or nothing. */
  publish(name: string, files: readonly PublishedFile[], credentials: Credentials): Promise<void> {
    return this.serialised(name, async () => {
      const peer = this.registered(name);
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
      if (batch.size === 0) return;
      const merged = [...peer.files.values()].map((entry) => batch.get(entry.name) ?? entry);
      for (const entry of batch.values()) if (!peer.files.has(entry.name)) merged.push(entry);
      await this.persist(() => this.store.set(name, peer.toStored(peer, merged)));
      for (const entry of batch.values()) this.share(peer, entry);
      this.log.debug('files published', { name, changed: batch.size, files: peer.files.size });
    });
  }

  /** Stops sharing files by name; names the peer does not share are nothing to do. All or nothing. */
  remove(name: string, files: readonly string[], credentials: Credentials): Promise<void> {
    return this.serialised(name, async () => {
      const peer = this.registered(name);
      this.authorise(peer, credentials);
      const gone = new Set(files.filter((file) => peer.files.has(file)));
      if (gone.size === 0) return;
      const kept = [...peer.files.values()].filter((entry) => !gone.has(entry.name));
      await this.persist(() => this.store.set(name, peer.toStored(peer, kept)));
      for (const file of gone) this.unshare(peer, file);
      this.log.debug('files removed', { name, removed: gone.size, files: peer.files.size });
    });
  }

  /** Moves a registration to a new IP, UDP port and TCP port; returns the contact now registered. */
  updateContact(name: string, contact: PeerContact, credentials: Credentials): Promise<PeerContact> {
    return this.serialised(name, async () => {
      const peer = this.registered(name);
      this.authorise(peer, credentials);
      const wanted = reachable(contact);
      await this.changeContact(peer, wanted);
      this.log.info('contact updated', { name, ...wanted });
      return wanted;
    });
  }

  /**
   * Expires registrations not heard from for `afterMs`, through the same path as DE-REGISTER.
   * Returns the names expired; a store failure leaves that peer for the next sweep.
   */
  async expireStale(afterMs: number): Promise<string[]> {
    const isStale = (peer: PeerState) => this.clock() - peer.lastSeen >= afterMs;
    const candidates = [...this.peers.values()].filter(isStale).map((peer) => peer.name);
    const expired: string[] = [];
    await Promise.all(
      candidates.map((name) =>
        this.serialised(name, async () => {
          const peer = this.peers.get(name);
          // Re-checked in the queue: a refresh may have arrived since the sweep looked.
          if (!peer || !isStale(peer)) return;
          await this.forget(peer, 'peer expired');
          expired.push(name);
        }).catch((error: unknown) => this.log.warn('expiry failed', { name, error })),
      ),
    );
    return expired;
  }

  /** Resolves once every mutation queued so far has finished (used by shutdown). */
  async settled(): Promise<void> {
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  // ——— internals ———

  private serialised<T>(name: string, step: () => Promise<T>): Promise<T> {
    const result = (this.queues.get(name) ?? DONE).then(step);
    const tail = result.then(noop, noop);
    this.queues.set(name, tail);
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return result;
  }

  private registered(name: string): PeerState {
    const peer = this.peers.get(name);
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
    peer.lastSeen = this.clock();
  }

  private async changeContact(peer: PeerState, wanted: PeerContact): Promise<void> {
    if (peer.ip === wanted.ip && peer.udpPort === wanted.udpPort && peer.tcpPort === wanted.tcpPort) return;
    await this.persist(() => this.store.set(peer.name, peer.toStored(wanted)));
    this.unlistContact(peer);
    peer.ip = wanted.ip;
    peer.udpPort = wanted.udpPort;
    peer.tcpPort = wanted.tcpPort;
    this.listContact(peer);
    this.changes++;
  }

  private async forget(peer: PeerState, event: string): Promise<void> {
    await this.persist(() => this.store.delete(peer.name));
    this.peers.delete(peer.name);
    removeSorted(this.sortedNames, peer.name, itself);
    this.byToken.delete(peer.token);
    this.unlistContact(peer);
    for (const file of [...peer.files.keys()]) this.unshare(peer, file);
    this.changes++;
    this.log.info(event, { name: peer.name });
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
    if (list.length === 0) this.holders.delete(file);
  }

  private addHolder(peer: PeerState, file: string): void {
    const list = this.holders.get(file);
    if (list) insertSorted(list, peer, nameOf);
    else this.holders.set(file, [peer]);
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

  private async persist(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (cause) {
      this.log.error('store write failed', { store: this.store.description, error: cause });
      throw new RegistryError('STORE_UNAVAILABLE', `the registry store is unavailable (${brief(cause)}); nothing was changed, try again`, { cause });
    }
  }
}

const NOBODY: readonly PeerView[] = Object.freeze([]);
const DONE: Promise<void> = Promise.resolve();
const noop = (): void => {};
const nameOf = (peer: PeerState): string => peer.name;

function toEntry(file: PublishedFile): FileEntry {
  if (typeof file === 'string') return { name: file };
  const entry: FileEntry = { name: file.name };
  if (file.size !== undefined) entry.size = file.size;
  if (file.sha256 !== undefined) entry.sha256 = file.sha256;
  return entry;
}

const sameEntry = (a: FileEntry, b: FileEntry): boolean => a.size === b.size && a.sha256 === b.sha256;

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
