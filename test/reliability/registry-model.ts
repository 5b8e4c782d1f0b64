// A model of what the registry must hold, built only from what the server acknowledged. Each peer
// only changes its own registration, one request at a time, so its state is known exactly except
// where a request timed out: then the change took effect once or not at all, and the model keeps
// both possibilities ("maybe") until a later acknowledgement settles them. Replies to queries and
// the final registry are checked against it; every mismatch is a violation (a wrong answer or a
// lost or half-applied mutation).
import type { FileEntry, FileHolder, PeerListing } from '../../src/generated/types.js';
import type { PeerInfo } from '../../src/client/index.js';

export type Fact = 'yes' | 'no' | 'maybe';

interface FileFact {
  state: Fact;
  entry: FileEntry;
  /** The timed-out request that made this file "maybe", while nothing else touched it since: its files must all be there or none. */
  group?: number;
}

export class PeerModel {
  registered: Fact = 'no';
  /** Every TCP port the registration may hold (one when known). */
  tcpPorts = new Set<number>();
  udpPort = 0;
  readonly files = new Map<string, FileFact>();
  /** Incremented when a mutation starts and when it ends: a query saw a stable peer when it did not move. */
  changes = 0;
  inflight = false;
  /** When the peer last moved (a mutation started or ended), on performance.now()'s clock. */
  movedAt = -Infinity;

  constructor(readonly name: string) {}

  fact(file: string): Fact {
    return this.files.get(file)?.state ?? 'no';
  }
}

/** The peers' moves as of one moment, for stableSince(). */
export interface Mark {
  at: number;
  peers: Map<string, { changes: number; inflight: boolean; movedAt: number }>;
}

/** Where the test stands: moves tracked for `stable()` and the running tally of violations. */
export class RegistryModel {
  readonly peers = new Map<string, PeerModel>();
  readonly violations: string[] = [];
  private nextGroup = 1;

  add(name: string): PeerModel {
    const peer = new PeerModel(name);
    this.peers.set(name, peer);
    return peer;
  }

  violation(text: string): void {
    this.violations.push(text);
  }

  /** Runs one mutation of `peer`, marking it in flight; `settle` applies the outcome to the model. */
  async mutate<T>(peer: PeerModel, run: () => Promise<T>, settle: (outcome: { ok: true; value: T } | { ok: false; error: unknown }, group: number) => void): Promise<T> {
    peer.inflight = true;
    peer.changes++;
    peer.movedAt = performance.now();
    const group = this.nextGroup++;
    try {
      const value = await run();
      settle({ ok: true, value }, group);
      return value;
    } catch (error) {
      settle({ ok: false, error }, group);
      throw error;
    } finally {
      peer.inflight = false;
      peer.changes++;
      peer.movedAt = performance.now();
    }
  }

  /** The peers' move counters now; compare with `stableSince` after a query. */
  mark(): Mark {
    return { at: performance.now(), peers: new Map([...this.peers].map(([name, p]) => [name, { changes: p.changes, inflight: p.inflight, movedAt: p.movedAt }])) };
  }

  /**
   * Peers that did not change between `mark` and now: a reply about them must match the model exactly.
   * `staleMs`: a server that may answer from a copy up to this far behind (one of several servers of a
   * registry) must only be right about peers that also stood still that long before the mark.
   */
  stableSince(mark: Mark, staleMs = 0): Set<string> {
    const stable = new Set<string>();
    for (const [name, before] of mark.peers) {
      const peer = this.peers.get(name)!;
      if (!before.inflight && before.changes === peer.changes && before.movedAt <= mark.at - staleMs) stable.add(name);
    }
    return stable;
  }

  // ——— acknowledgements and timeouts ———

  registered(peer: PeerModel, tcpPort: number, acknowledged: boolean): void {
    const before = peer.registered;
    if (before === 'no') {
      peer.files.clear();
      peer.tcpPorts = new Set();
    } else if (before === 'maybe') {
      // A timed-out DE-REGISTER may or may not have removed the files: they stay maybe, in its group.
      for (const fact of peer.files.values()) if (fact.state === 'yes') fact.state = 'maybe';
    }
    if (acknowledged) {
      peer.registered = 'yes';
      peer.tcpPorts = new Set([tcpPort]);
    } else {
      peer.registered = before === 'yes' ? 'yes' : 'maybe';
      peer.tcpPorts.add(tcpPort);
    }
  }

  deregistered(peer: PeerModel, acknowledged: boolean, group: number): void {
    if (acknowledged) {
      peer.registered = 'no';
      peer.files.clear();
      peer.tcpPorts = new Set();
      return;
    }
    peer.registered = 'maybe';
    for (const fact of peer.files.values()) this.unsure(fact, group);
  }

  published(peer: PeerModel, entries: readonly FileEntry[], acknowledged: boolean, group: number): void {
    for (const entry of entries) {
      const fact = peer.files.get(entry.name);
      if (acknowledged) peer.files.set(entry.name, { state: 'yes', entry });
      else if (!fact || fact.state === 'no') peer.files.set(entry.name, { state: 'maybe', entry, group });
      else if (fact.state === 'maybe') delete fact.group; // two unsure requests touch it: no all-or-nothing claim
    }
  }

  removed(peer: PeerModel, names: readonly string[], acknowledged: boolean, group: number): void {
    for (const name of names) {
      const fact = peer.files.get(name);
      if (!fact) continue;
      if (acknowledged) peer.files.delete(name);
      else this.unsure(fact, group);
    }
  }

  contactUpdated(peer: PeerModel, tcpPort: number, acknowledged: boolean): void {
    if (acknowledged) peer.tcpPorts = new Set([tcpPort]);
    else peer.tcpPorts.add(tcpPort);
  }

  private unsure(fact: FileFact, group: number): void {
    if (fact.state === 'yes') {
      fact.state = 'maybe';
      fact.group = group;
    } else if (fact.state === 'maybe') {
      delete fact.group;
    }
  }

  // ——— checks ———

  /** SEARCH-FILE of `file` (NFC) against the peers that stood still meanwhile. */
  checkSearch(who: string, file: string, holders: readonly FileHolder[], stable: Set<string>, ip: string): void {
    const seen = new Set<string>();
    for (const holder of holders) {
      const peer = this.peers.get(holder.name);
      if (!peer) {
        this.violation(`${who}: SEARCH-FILE ${file} listed ${holder.name}, a peer nobody registered`);
        continue;
      }
      if (seen.has(holder.name)) this.violation(`${who}: SEARCH-FILE ${file} listed ${holder.name} twice`);
      seen.add(holder.name);
      if (!stable.has(peer.name)) continue;
      if (peer.registered === 'no' || peer.fact(file) === 'no') {
        this.violation(`${who}: SEARCH-FILE ${file} listed ${peer.name}, which does not share it (registered ${peer.registered}, file ${peer.fact(file)})`);
        continue;
      }
      this.checkContact(who, peer, holder, ip);
      const entry = peer.files.get(file)!.entry;
      if (holder.size !== entry.size) this.violation(`${who}: SEARCH-FILE ${file} gave ${peer.name}'s size as ${holder.size}, published ${entry.size}`);
    }
    for (const name of stable) {
      const peer = this.peers.get(name)!;
      if (peer.registered === 'yes' && peer.fact(file) === 'yes' && !seen.has(name)) {
        this.violation(`${who}: SEARCH-FILE ${file} left out ${name}, which was acknowledged to share it`);
      }
    }
  }

  /** One peer's listing (RETRIEVE-INFOT, or its entry in RETRIEVE-ALL) of a peer that stood still. */
  checkListing(who: string, listing: PeerListing | PeerInfo, ip: string): void {
    const peer = this.peers.get(listing.name);
    if (!peer) return this.violation(`${who}: listed ${listing.name}, a peer nobody registered`);
    if (peer.registered === 'no') return this.violation(`${who}: listed ${peer.name}, which is not registered`);
    this.checkContact(who, peer, listing, ip);
    const names = listing.files.map((f) => f.name);
    if (new Set(names).size !== names.length) this.violation(`${who}: ${peer.name}'s files list a name twice: ${names.join(', ')}`);
    for (const file of listing.files) {
      const fact = peer.files.get(file.name);
      if (!fact || fact.state === 'no') this.violation(`${who}: ${peer.name} listed with ${file.name}, which it does not share`);
      else if (file.size !== fact.entry.size) this.violation(`${who}: ${peer.name}'s ${file.name} has size ${file.size}, published ${fact.entry.size}`);
    }
    if (peer.registered !== 'yes') return; // a registration that may be new holds no files for sure
    for (const [file, fact] of peer.files) {
      if (fact.state === 'yes' && !names.includes(file)) this.violation(`${who}: ${peer.name} listed without ${file}, acknowledged as published`);
    }
  }

  /** RETRIEVE-ALL: every stable peer checked; one that must be registered must be there. */
  checkAll(who: string, listings: readonly PeerListing[], stable: Set<string>, ip: string): void {
    const seen = new Set<string>();
    for (const listing of listings) {
      if (seen.has(listing.name)) this.violation(`${who}: RETRIEVE-ALL listed ${listing.name} twice`);
      seen.add(listing.name);
      if (!this.peers.has(listing.name)) this.violation(`${who}: RETRIEVE-ALL listed ${listing.name}, a peer nobody registered`);
      else if (stable.has(listing.name)) this.checkListing(`${who}: RETRIEVE-ALL`, listing, ip);
    }
    for (const name of stable) {
      if (this.peers.get(name)!.registered === 'yes' && !seen.has(name)) this.violation(`${who}: RETRIEVE-ALL left out ${name}, acknowledged as registered`);
    }
  }

  /**
   * The registry at the end, as stored: every acknowledged mutation there exactly once, every
   * timed-out one applied wholly or not at all. Returns how many acknowledged facts were missing.
   */
  checkFinal(peers: ReadonlyArray<{ name: string; ip: string; udpPort: number; tcpPort: number; files: readonly FileEntry[] }>, ip: string): number {
    let lost = 0;
    const lose = (text: string) => {
      lost++;
      this.violation(`final registry: ${text}`);
    };
    const stored = new Map<string, (typeof peers)[number]>();
    for (const record of peers) {
      if (stored.has(record.name)) this.violation(`final registry: ${record.name} stored twice`);
      stored.set(record.name, record);
      if (!this.peers.has(record.name)) this.violation(`final registry: holds ${record.name}, a peer nobody registered`);
    }
    for (const peer of this.peers.values()) {
      const record = stored.get(peer.name);
      if (!record) {
        if (peer.registered === 'yes') lose(`${peer.name} is missing, acknowledged as registered`);
        continue;
      }
      if (peer.registered === 'no') {
        this.violation(`final registry: holds ${peer.name}, acknowledged as de-registered`);
        continue;
      }
      if (record.ip !== ip || record.udpPort !== peer.udpPort) this.violation(`final registry: ${peer.name} at ${record.ip}:${record.udpPort}, registered from ${ip}:${peer.udpPort}`);
      if (!peer.tcpPorts.has(record.tcpPort)) lose(`${peer.name} has tcpPort ${record.tcpPort}, acknowledged ${[...peer.tcpPorts].join(' or ')}`);
      const names = record.files.map((f) => f.name);
      if (new Set(names).size !== names.length) this.violation(`final registry: ${peer.name} holds a file twice: ${names.join(', ')}`);
      for (const file of record.files) {
        const fact = peer.files.get(file.name);
        if (!fact || fact.state === 'no') this.violation(`final registry: ${peer.name} holds ${file.name}, acknowledged as removed or never published`);
        else if (file.size !== fact.entry.size) this.violation(`final registry: ${peer.name}'s ${file.name} has size ${file.size}, published ${fact.entry.size}`);
      }
      const groups = new Map<number, { present: string[]; absent: string[] }>();
      for (const [file, fact] of peer.files) {
        const present = names.includes(file);
        if (fact.state === 'yes' && peer.registered === 'yes' && !present) lose(`${peer.name} lost ${file}, acknowledged as published`);
        if (fact.state === 'maybe' && fact.group !== undefined) {
          const group = groups.get(fact.group) ?? { present: [], absent: [] };
          (present ? group.present : group.absent).push(file);
          groups.set(fact.group, group);
        }
      }
      for (const { present, absent } of groups.values()) {
        if (present.length > 0 && absent.length > 0) {
          this.violation(`final registry: a timed-out request of ${peer.name} was half applied: ${present.join(', ')} there, ${absent.join(', ')} not`);
        }
      }
    }
    return lost;
  }

  private checkContact(who: string, peer: PeerModel, seen: { ip: string; tcpPort: number }, ip: string): void {
    if (seen.ip !== ip) this.violation(`${who}: ${peer.name} at ip ${seen.ip}, registered ${ip}`);
    if (!peer.tcpPorts.has(seen.tcpPort)) this.violation(`${who}: ${peer.name} at tcpPort ${seen.tcpPort}, acknowledged ${[...peer.tcpPorts].join(' or ')}`);
  }
}
