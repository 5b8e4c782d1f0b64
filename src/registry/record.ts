// One registered peer: the record the store keeps (one key per peer name) and the live state the
// in-memory index holds. FileEntry objects are shared between a peer's file map and the search index
// and never mutated (a re-publish replaces the entry), so a published name costs one object.
import type { FileEntry } from '../generated/types.js';
import { validateUdpReply, validateUdpRequest } from '../generated/catalogue.js';
import { reasonFromSchemaError } from '../protocol/index.js';

/** What the store holds under the peer's name. */
export interface StoredPeer {
  name: string;
  ip: string;
  udpPort: number;
  tcpPort: number;
  token: string;
  files: FileEntry[];
  /** Milliseconds since the epoch, by the server's clock. */
  registeredAt: number;
  /** Where the peer's datagrams come from (absent in records written before it was kept: the declared address). */
  observedIp?: string;
  observedUdpPort?: number;
  /** The TCP port where the peer relays for others (serve --relay); absent when it does not. */
  relayPort?: number;
}

/** Where the server sees a peer's datagrams come from. */
export interface Observed {
  observedIp: string;
  observedUdpPort: number;
}

/** Where a peer is reached: its UDP side (the server) and TCP side (other peers). */
export interface PeerContact {
  ip: string;
  udpPort: number;
  tcpPort: number;
}

/** A registered peer as readers see it. */
export interface PeerView extends Readonly<PeerContact> {
  readonly name: string;
  readonly files: ReadonlyMap<string, FileEntry>;
  readonly registeredAt: number;
  readonly observedIp: string;
  readonly observedUdpPort: number;
  /** Its datagrams come from elsewhere than the address it registered: a NAT is between it and us. */
  readonly behindNat: boolean;
  /** Where it relays for peers that cannot reach each other, when it does. */
  readonly relayPort: number | undefined;
  /** The peer's file names in code-unit order (the order listings and cursors use). */
  sortedFileNames(): readonly string[];
  /** The peer's files in the same order. */
  sortedFiles(): readonly FileEntry[];
}

export class PeerState implements PeerView {
  /** Last authorised request from this peer, by the server's clock (memory only: restarts count from load). */
  lastSeen: number;
  /** When this server last told a shared store it heard from the peer (stores expire on their own clock). */
  toldSeenAt = -Infinity;
  relayPort: number | undefined;
  private sortedNames: string[] | undefined;
  private sortedEntries: FileEntry[] | undefined;

  constructor(
    /** The ledger's version of this registration (see src/stores/ledger.ts). */
    public version: number,
    readonly name: string,
    public ip: string,
    public udpPort: number,
    public tcpPort: number,
    readonly token: string,
    readonly registeredAt: number,
    readonly files: Map<string, FileEntry>,
    now: number,
    public observedIp: string = ip,
    public observedUdpPort: number = udpPort,
  ) {
    this.lastSeen = now;
  }

  static fromStored(stored: StoredPeer, version: number, now: number): PeerState {
    const files = new Map<string, FileEntry>();
    for (const entry of stored.files) files.set(entry.name, entry);
    const { observedIp = stored.ip, observedUdpPort = stored.udpPort } = stored;
    const peer = new PeerState(version, stored.name, stored.ip, stored.udpPort, stored.tcpPort, stored.token, stored.registeredAt, files, now, observedIp, observedUdpPort);
    peer.relayPort = stored.relayPort;
    return peer;
  }

  get behindNat(): boolean {
    return this.observedIp !== this.ip || this.observedUdpPort !== this.udpPort;
  }

  toStored(contact: PeerContact = this, files: FileEntry[] = [...this.files.values()], observed: Observed = this, relayPort = this.relayPort): StoredPeer {
    const { name, token, registeredAt } = this;
    const stored: StoredPeer = { name, ip: contact.ip, udpPort: contact.udpPort, tcpPort: contact.tcpPort, token, files, registeredAt };
    if (relayPort !== undefined) stored.relayPort = relayPort;
    // Kept only when it differs: a record of a peer seen where it registered stays as it always was.
    if (observed.observedIp !== contact.ip || observed.observedUdpPort !== contact.udpPort) {
      stored.observedIp = observed.observedIp;
      stored.observedUdpPort = observed.observedUdpPort;
    }
    return stored;
  }

  sortedFileNames(): readonly string[] {
    // Rebuilt lazily after a change: publishing in batches then listing once costs one sort, not one per batch.
    this.sortedNames ??= [...this.files.keys()].sort();
    return this.sortedNames;
  }

  sortedFiles(): readonly FileEntry[] {
    // Pages list entries in this order: kept, so a page does not look each name up again.
    this.sortedEntries ??= this.sortedFileNames().map((name) => this.files.get(name)!);
    return this.sortedEntries;
  }

  /** Called by the registry whenever it adds, replaces or removes a file. */
  filesChanged(): void {
    this.sortedNames = undefined;
    this.sortedEntries = undefined;
  }
}

/** Largest files array one reply schema accepts: stored files are checked against it in slices. */
const FILES_PER_CHECK = 1024;

/**
 * Why a record loaded from the store cannot be served (undefined when it can). A store edited by hand,
 * or written by another program, must not put a peer into replies that break the schemas.
 */
export function problemWithStored(key: string, value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'the record is not an object';
  const record = value as Partial<StoredPeer>;
  if (record.name !== key) return `the record's name ${JSON.stringify(record.name)} is not its key`;
  const { name, ip, udpPort, tcpPort, token } = record;
  const asRegister = { type: 'REGISTER', rq: 0, name, ip, udpPort, tcpPort, token };
  if (token === undefined) return 'token is missing';
  if (!validateUdpRequest.REGISTER(asRegister)) return reasonFromSchemaError(validateUdpRequest.REGISTER.errors![0]!, 'REGISTER');
  if (record.observedIp !== undefined || record.observedUdpPort !== undefined) {
    const observed = { ...asRegister, ip: record.observedIp, udpPort: record.observedUdpPort };
    if (!validateUdpRequest.REGISTER(observed)) return `observed address: ${reasonFromSchemaError(validateUdpRequest.REGISTER.errors![0]!, 'REGISTER')}`;
  }
  if (record.relayPort !== undefined && !(Number.isInteger(record.relayPort) && record.relayPort >= 1 && record.relayPort <= 65535)) return 'relayPort must be a port';
  if (typeof record.registeredAt !== 'number' || !Number.isFinite(record.registeredAt)) return 'registeredAt must be a number';
  if (!Array.isArray(record.files)) return 'files must be an array';
  const names = record.files.map((entry: FileEntry | undefined) => entry?.name as string);
  if (new Set(names).size !== names.length) return 'files lists a name twice';
  for (let from = 0; from < record.files.length; from += FILES_PER_CHECK) {
    const asListing = { type: 'RETRIEVE-INFOT', rq: 0, name, ip, tcpPort, files: record.files.slice(from, from + FILES_PER_CHECK) };
    const valid = validateUdpReply['RETRIEVE-INFOT'];
    if (!valid(asListing)) return reasonFromSchemaError(valid.errors![0]!, 'stored record');
    if (names.slice(from, from + FILES_PER_CHECK).some((n) => n !== n.normalize('NFC'))) return 'a file name is not NFC-normalised';
  }
  return undefined;
}
