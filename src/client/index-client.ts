// The peer's side of the UDP conversation with the index server. One socket, bound to the port the
// peer registers as its udpPort, so the server can also authorise us by address. Each request gets
// a fresh rq; replies are matched through the in-flight map; a request that gets no answer is resent
// with the very same bytes, so the server's reply cache makes it take effect once.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import {
  decodeUdpReply, encodeDatagram, MAX_DATAGRAM_BYTES, MAX_RQ, MAX_UDP_PAYLOAD, ProtocolError, reasonFromSchemaError,
} from '../protocol/index.js';
import {
  UDP_REFUSAL, validateUdpRequest,
  type UdpReply, type UdpRepliesTo, type UdpRequest, type UdpRequestByType, type UdpRequestType,
} from '../generated/catalogue.js';
import type { FileEntry, FileHolder, PeerListing, PublishedFile, UpdateConfirmedReply } from '../generated/types.js';
import { silentLogger, type Logger } from '../log/index.js';
import { IndexClientError } from './errors.js';
import { splitIntoBatches } from './batches.js';
import { DEFAULT_RETRY, timeoutFor, type RetryPolicy } from './retry.js';


/**
 * A restarted peer often binds the same UDP port again; starting its rqs at a random point keeps a
 * new request from matching a reply the server cached for the previous run.
 */
const randomFirstRq = () => randomInt(1, 2 ** 30);

/** The reply that means success for each request (its refusal is UDP_REFUSAL[type]). */
const SUCCESS = {
  'REGISTER': 'REGISTERED',
  'DE-REGISTER': 'DE-REGISTERED',
  'PUBLISH': 'PUBLISHED',
  'REMOVE': 'REMOVED',
  'RETRIEVE-ALL': 'RETRIEVE',
  'RETRIEVE-INFOT': 'RETRIEVE-INFOT',
  'SEARCH-FILE': 'SEARCH-FILE',
  'UPDATE-CONTACT': 'UPDATE-CONFIRMED',
} as const satisfies { [K in UdpRequestType]: Exclude<UdpRepliesTo[K], { type: (typeof UDP_REFUSAL)[K] }>['type'] };

type Success<K extends UdpRequestType> = Extract<UdpRepliesTo[K], { type: (typeof SUCCESS)[K] }>;
/** A request as callers write it: the client picks the rq and adds the token. */
export type Outgoing<K extends UdpRequestType> = Omit<UdpRequestByType[K], 'rq'> & { type: K };

export interface ServerAddress {
  host: string;
  port: number;
}

/** Where the peer can be reached, as REGISTER and UPDATE-CONTACT carry it. */
export interface Contact {
  name: string;
  ip: string;
  udpPort: number;
  tcpPort: number;
}

/** One message crossing the wire, for --verbose, the demo and the GUI. */
export interface MessageSeen {
  direction: 'sent' | 'received';
  message: UdpRequest | UdpReply;
  /** The index server, as host:port. */
  server: string;
  /** For sent messages: 1 for the first try, then 2, 3, … for resends of the same bytes. */
  attempt?: number;
  /** For received messages the client did not use: why. */
  ignored?: string;
}

/** A peer's published contact and every page of its files. */
export interface PeerInfo {
  name: string;
  ip: string;
  tcpPort: number;
  files: FileEntry[];
}

export interface IndexClientOptions {
  server: ServerAddress;
  /** The local UDP port: the udpPort the peer registers. 0 picks a free one. */
  udpPort?: number;
  /** The local address to bind; by default every interface of the server's address family. */
  bindAddress?: string;
  retry?: Partial<RetryPolicy>;
  /** Largest request datagram the server accepts. */
  maxDatagramBytes?: number;
  /** Identity remembered from an earlier run: the name and the token REGISTERED gave it. */
  name?: string;
  token?: string;
  logger?: Logger;
  onMessage?: (seen: MessageSeen) => void;
}

interface Pending {
  type: UdpRequestType;
  resolve(reply: UdpReply): void;
  reject(error: Error): void;
}

export class IndexClient {
  /** The server as the user named it, for messages: `10.0.0.5:4000`. */
  readonly serverLabel: string;
  readonly retry: RetryPolicy;
  readonly maxDatagramBytes: number;
  onMessage: ((seen: MessageSeen) => void) | undefined;

  private readonly inflight = new Map<number, Pending>();
  private nextRq = randomFirstRq();
  private closed = false;
  private identity: { name?: string; token?: string };
  private lastContact: Contact | undefined;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly server: { address: string; port: number },
    options: IndexClientOptions,
    private readonly logger: Logger,
  ) {
    this.serverLabel = hostPort(options.server.host, options.server.port);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.maxDatagramBytes = options.maxDatagramBytes ?? MAX_DATAGRAM_BYTES;
    this.onMessage = options.onMessage;
    this.identity = { name: options.name, token: options.token };
    socket.on('message', (bytes, from) => this.onDatagram(bytes, from));
    socket.on('error', (error) => logger.warn('index.socket.error', { error }));
  }

  /** Resolves the server's address and binds the UDP socket. */
  static async open(options: IndexClientOptions): Promise<IndexClient> {
    const logger = (options.logger ?? silentLogger).child({ component: 'index-client' });
    const label = hostPort(options.server.host, options.server.port);
    const address = await resolve(options.server.host, label);
    const family = isIP(address) === 6 ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type: family });
    try {
      await new Promise<void>((ok, fail) => {
        socket.once('error', fail);
        socket.bind({ port: options.udpPort ?? 0, address: options.bindAddress }, () => {
          socket.off('error', fail);
          ok();
        });
      });
    } catch (error) {
      socket.close();
      const why = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'it is in use' : (error as Error).message;
      throw new IndexClientError('BIND', `cannot use UDP port ${options.udpPort ?? 0}: ${why}`);
    }
    return new IndexClient(socket, { address, port: options.server.port }, options, logger);
  }

  /** The bound UDP port: the udpPort to register. */
  get udpPort(): number {
    return this.socket.address().port;
  }

  get name(): string | undefined {
    return this.identity.name;
  }

  /** The secret REGISTERED gave us; sent with every request. */
  get token(): string | undefined {
    return this.identity.token;
  }

  /** The contact last registered or confirmed by UPDATE-CONTACT. */
  get contact(): Contact | undefined {
    return this.lastContact;
  }

  /**
   * Sends one request and resolves with the server's reply to it (success or refusal); rejects with
   * TIMEOUT after every try, INVALID before sending a request that breaks the schema, PROTOCOL when
   * the server answers ERROR.
   */
  request<K extends UdpRequestType>(outgoing: Outgoing<K>): Promise<UdpRepliesTo[K]> {
    if (this.closed) return Promise.reject(closedError(outgoing.type));
    let message: UdpRequestByType[K];
    try {
      message = this.stamp(outgoing);
    } catch (error) {
      return Promise.reject(error);
    }
    const bytes = encodeDatagram(message);
    if (bytes.byteLength > this.maxDatagramBytes) {
      return Promise.reject(new IndexClientError(
        'TOO_LARGE', `${outgoing.type} of ${bytes.byteLength} bytes is over the ${this.maxDatagramBytes}-byte datagram limit`, outgoing.type,
      ));
    }
    return new Promise<UdpRepliesTo[K]>((resolve, reject) => {
      const started = performance.now();
      let attempt = 0;
      let timer: NodeJS.Timeout | undefined;
      const settle = () => {
        clearTimeout(timer);
        this.inflight.delete(message.rq);
      };
      const send = () => {
        attempt++;
        this.socket.send(bytes, this.server.port, this.server.address, (error) => {
          if (error) this.logger.warn('index.send.failed', { type: message.type, rq: message.rq, attempt, error });
        });
        this.seen({ direction: 'sent', message, server: this.serverLabel, attempt });
        timer = setTimeout(() => {
          if (attempt < this.retry.attempts) return send();
          settle();
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          const tries = `${this.retry.attempts} ${this.retry.attempts === 1 ? 'try' : 'tries'}`;
          reject(new IndexClientError(
            'TIMEOUT', `index server ${this.serverLabel} did not answer ${message.type} after ${tries} (${seconds} s)`, message.type,
          ));
        }, timeoutFor(this.retry, attempt));
      };
      this.inflight.set(message.rq, {
        type: message.type,
        resolve: (reply) => {
          settle();
          resolve(reply as UdpRepliesTo[K]);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      send();
    });
  }

  /** REGISTER (or refresh, with the token we hold); keeps the new token. */
  async register(contact: Omit<Contact, 'udpPort'> & { udpPort?: number }): Promise<string> {
    const full: Contact = { ...contact, udpPort: contact.udpPort ?? this.udpPort };
    const sameName = this.identity.name === full.name;
    const reply = await this.ask({ type: 'REGISTER', ...full, ...(sameName && this.token ? { token: this.token } : {}) });
    this.identity = { name: full.name, token: reply.token };
    this.lastContact = full;
    return reply.token;
  }

  /** DE-REGISTER; the token is forgotten (the registration it proved is gone). */
  async deregister(): Promise<void> {
    await this.ask({ type: 'DE-REGISTER', name: this.requireName('DE-REGISTER') });
    this.identity = { name: this.identity.name };
    this.lastContact = undefined;
  }

  /** PUBLISH, in as many datagrams as the list needs; resolves when every batch is PUBLISHED. */
  async publish(files: readonly PublishedFile[]): Promise<void> {
    const name = this.requireName('PUBLISH');
    const describe = (file: PublishedFile) => `file ${JSON.stringify(typeof file === 'string' ? file : file.name)}`;
    for (const batch of this.batches('PUBLISH', name, files, describe)) await this.ask({ type: 'PUBLISH', name, files: batch });
  }

  /** REMOVE, batched like publish. */
  async remove(files: readonly string[]): Promise<void> {
    const name = this.requireName('REMOVE');
    for (const batch of this.batches('REMOVE', name, files, (file) => `file ${JSON.stringify(file)}`)) {
      await this.ask({ type: 'REMOVE', name, files: batch });
    }
  }

  /** Every registered peer with its files: follows `next` to the end and joins a peer split across pages. */
  async retrieveAll(): Promise<PeerListing[]> {
    const peers: PeerListing[] = [];
    await this.followPages((cursor) => this.ask({ type: 'RETRIEVE-ALL', ...cursor }), (page) => {
      for (const peer of page.peers) {
        const last = peers.at(-1);
        if (last && last.name === peer.name) last.files.push(...peer.files);
        else peers.push({ ...peer, files: [...peer.files] });
      }
    });
    return peers;
  }

  /** One peer's contact and all its files (every page). */
  async retrieveInfo(name: string): Promise<PeerInfo> {
    let info: PeerInfo | undefined;
    await this.followPages((cursor) => this.ask({ type: 'RETRIEVE-INFOT', name, ...cursor }), (page) => {
      if (!info) info = { name: page.name, ip: page.ip, tcpPort: page.tcpPort, files: [] };
      info.files.push(...page.files);
    });
    return info!;
  }

  /** Every peer that shares `file` (every page). */
  async searchFile(file: string): Promise<FileHolder[]> {
    const holders: FileHolder[] = [];
    await this.followPages((cursor) => this.ask({ type: 'SEARCH-FILE', file, ...cursor }), (page) => {
      holders.push(...page.peers);
    });
    return holders;
  }

  /** UPDATE-CONTACT: fields left out keep their registered value. Resolves with what is now registered. */
  async updateContact(changes: Partial<Omit<Contact, 'name'>>): Promise<Contact> {
    const name = this.requireName('UPDATE-CONTACT');
    const current = this.lastContact;
    const ip = changes.ip ?? current?.ip;
    const tcpPort = changes.tcpPort ?? current?.tcpPort;
    if (ip === undefined || tcpPort === undefined) {
      throw new IndexClientError('NOT_REGISTERED', 'UPDATE-CONTACT needs ip and tcpPort: register first, or give both', 'UPDATE-CONTACT');
    }
    const udpPort = changes.udpPort ?? current?.udpPort ?? this.udpPort;
    const reply: UpdateConfirmedReply = await this.ask({ type: 'UPDATE-CONTACT', name, ip, udpPort, tcpPort });
    this.lastContact = { name: reply.name, ip: reply.ip, udpPort: reply.udpPort, tcpPort: reply.tcpPort };
    return this.lastContact;
  }

  /** Fails every waiting request with CLOSED and releases the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pending of [...this.inflight.values()]) pending.reject(closedError(pending.type));
    await new Promise<void>((done) => this.socket.close(() => done()));
  }

  /** A request whose refusal becomes DENIED with the server's reason. */
  private async ask<K extends UdpRequestType>(outgoing: Outgoing<K>): Promise<Success<K>> {
    const reply = await this.request(outgoing);
    if (reply.type !== SUCCESS[outgoing.type]) {
      const reason = 'reason' in reply ? reply.reason : `unexpected ${reply.type}`;
      throw new IndexClientError('DENIED', `index server refused ${outgoing.type}: ${reason}`, outgoing.type, reason);
    }
    return reply as Success<K>;
  }

  private async followPages<P extends { next?: string }>(
    fetch: (cursor: { cursor?: string }) => Promise<P>,
    take: (page: P) => void,
  ): Promise<void> {
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await fetch(cursor === undefined ? {} : { cursor });
      take(page);
      cursor = page.next;
      if (cursor !== undefined && seen.has(cursor)) {
        throw new IndexClientError('PROTOCOL', `index server ${this.serverLabel} returned the paging cursor ${JSON.stringify(cursor)} twice`);
      }
      if (cursor !== undefined) seen.add(cursor);
    } while (cursor !== undefined);
  }

  private batches<T>(type: 'PUBLISH' | 'REMOVE', name: string, items: readonly T[], describe: (item: T) => string): T[][] {
    const base = { type, name, ...(this.token ? { token: this.token } : {}) };
    return splitIntoBatches(base, items, this.maxDatagramBytes, describe);
  }

  /** Adds rq and token, and refuses locally what the server would refuse, with the same reason. */
  private stamp<K extends UdpRequestType>(outgoing: Outgoing<K>): UdpRequestByType[K] {
    const rq = this.nextRq;
    this.nextRq = (this.nextRq + 1) % (MAX_RQ + 1);
    const withToken = outgoing.token === undefined && this.token !== undefined ? { ...outgoing, token: this.token } : outgoing;
    const message = { ...withToken, rq } as unknown as UdpRequestByType[K];
    const validate = validateUdpRequest[outgoing.type];
    if (!validate(message)) {
      const reason = reasonFromSchemaError(validate.errors![0]!, outgoing.type);
      throw new IndexClientError('INVALID', `cannot send ${outgoing.type}: ${reason}`, outgoing.type, reason);
    }
    return message;
  }

  private requireName(type: UdpRequestType): string {
    if (this.identity.name === undefined) {
      throw new IndexClientError('NOT_REGISTERED', `${type} needs a peer name: register first`, type);
    }
    return this.identity.name;
  }

  private onDatagram(bytes: Buffer, from: dgram.RemoteInfo): void {
    if (from.address !== this.server.address || from.port !== this.server.port) {
      this.logger.warn('index.reply.stranger', { from: hostPort(from.address, from.port), bytes: bytes.byteLength });
      return;
    }
    let reply: UdpReply;
    try {
      reply = decodeUdpReply(bytes, MAX_UDP_PAYLOAD);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.logger.warn('index.reply.garbage', { reason: error.reason, bytes: bytes.byteLength });
      return;
    }
    const pending = reply.rq === null ? undefined : this.inflight.get(reply.rq);
    if (!pending) return this.ignore(reply, `no request waits for rq ${reply.rq}`);
    if (reply.type === 'ERROR') {
      this.seen({ direction: 'received', message: reply, server: this.serverLabel });
      pending.reject(new IndexClientError(
        'PROTOCOL', `index server ${this.serverLabel} could not read our ${pending.type}: ${reply.reason}`, pending.type, reply.reason,
      ));
      return;
    }
    if (reply.type !== SUCCESS[pending.type] && reply.type !== UDP_REFUSAL[pending.type]) {
      return this.ignore(reply, `${reply.type} does not answer ${pending.type}`);
    }
    this.seen({ direction: 'received', message: reply, server: this.serverLabel });
    pending.resolve(reply);
  }

  private ignore(reply: UdpReply, why: string): void {
    this.logger.warn('index.reply.ignored', { type: reply.type, rq: reply.rq, why });
    this.seen({ direction: 'received', message: reply, server: this.serverLabel, ignored: why });
  }

  private seen(event: MessageSeen): void {
    if (this.logger.enabled('debug')) {
      const { direction, message, attempt, ignored } = event;
      this.logger.debug(direction === 'sent' ? 'index.sent' : 'index.received', {
        message: redactToken(message), ...(attempt && attempt > 1 ? { attempt } : {}), ...(ignored ? { ignored } : {}),
      });
    }
    this.onMessage?.(event);
  }
}

/** A copy of a message with its token shortened, for logs and screens: the token is a secret. */
export function redactToken<M extends object>(message: M): M {
  if (!('token' in message) || typeof message.token !== 'string') return message;
  return { ...message, token: `${message.token.slice(0, 4)}…` };
}

export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

async function resolve(host: string, label: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    return (await lookup(host)).address;
  } catch (error) {
    throw new IndexClientError('BIND', `cannot find index server ${label}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

const closedError = (type: string) => new IndexClientError('CLOSED', `${type} abandoned: the index client was closed`, type);
