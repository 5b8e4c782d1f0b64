// The peer's side of the UDP conversation with the index server. One socket, bound to the port the
// peer registers as its udpPort, so the server can also authorise us by address. Each request gets
// a fresh rq; replies are matched through the in-flight map; a request that gets no answer is resent
// with the very same bytes, so the server's reply cache makes it take effect once.
//
// Several servers of one registry (a cluster on one PostgreSQL database) may be given: requests go
// to one; after `failoverAfter` unanswered tries the client moves to the next, with the same bytes
// (the registry keeps each mutation's outcome, so it still takes effect once) and the same token.
// While away from the first server, it asks the first now and then, and goes back once it answers.
// A reply is accepted only from a server its request was sent to.
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
import type { CallbackSentReply, ConnectBackPush, FileEntry, FileHolder, PeerListing, PublishedFile, UpdateConfirmedReply, WordMatch, YouAreReply } from '../generated/types.js';
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
  'SEARCH-WORDS': 'WORDS-FOUND',
  'UPDATE-CONTACT': 'UPDATE-CONFIRMED',
  'WHO-AM-I': 'YOU-ARE',
  'CALLBACK': 'CALLBACK-SENT',
} as const satisfies { [K in UdpRequestType]: Exclude<UdpRepliesTo[K], { type: (typeof UDP_REFUSAL)[K] }>['type'] };

type Success<K extends UdpRequestType> = Extract<UdpRepliesTo[K], { type: (typeof SUCCESS)[K] }>;
/** A request as callers write it: the client picks the rq and adds the token. */
export type Outgoing<K extends UdpRequestType> = Omit<UdpRequestByType[K], 'rq'> & { type: K };

/** Where the index server sees this client's datagrams come from, and whether that is not where it registered. */
export interface SeenAs {
  observedIp: string;
  observedUdpPort: number;
  behindNat: boolean;
}

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
  /** The index server, or several serving one registry (the first is preferred). */
  server: ServerAddress | readonly ServerAddress[];
  /** The local UDP port: the udpPort the peer registers. 0 picks a free one. */
  udpPort?: number;
  /** The local address to bind; by default every interface of the server's address family. */
  bindAddress?: string;
  retry?: Partial<RetryPolicy>;
  /** Largest request datagram the server accepts. */
  maxDatagramBytes?: number;
  /** While away from the first of several servers, how often it is asked whether it answers again. */
  probeFirstEveryMs?: number;
  /** Identity remembered from an earlier run: the name and the token REGISTERED gave it. */
  name?: string;
  token?: string;
  logger?: Logger;
  onMessage?: (seen: MessageSeen) => void;
  /** A CONNECT-BACK the server pushed (only the servers named in `server` are listened to). */
  onConnectBack?: (push: ConnectBackPush) => void;
}

interface Pending {
  type: UdpRequestType;
  /** The servers this request was sent to: only they may answer it. */
  asked: Set<Target>;
  resolve(reply: UdpReply): void;
  reject(error: Error): void;
}

/** One index server, resolved. */
interface Target {
  address: string;
  port: number;
  /** As the user named it: `10.0.0.5:4000`. */
  label: string;
}

/** While away from the first server, how often it is asked whether it answers again. */
export const FIRST_SERVER_PROBE_MS = 5000;

/** What a probe asks: any answer, a refusal too, shows the server is back. */
const PROBE: Outgoing<'SEARCH-FILE'> = { type: 'SEARCH-FILE', file: 'p2fs-liveness-probe' };

export class IndexClient {
  readonly retry: RetryPolicy;
  readonly maxDatagramBytes: number;
  onMessage: ((seen: MessageSeen) => void) | undefined;
  /** Receives CONNECT-BACK pushes (the peer answers them by connecting out). */
  onConnectBack: ((push: ConnectBackPush) => void) | undefined;

  private readonly inflight = new Map<number, Pending>();
  private nextRq = randomFirstRq();
  private closed = false;
  private identity: { name?: string; token?: string };
  private lastContact: Contact | undefined;
  /** How the server last said it sees this client (REGISTERED or YOU-ARE); undefined before, or from an older server. */
  seenAs: SeenAs | undefined;
  /** The server requests go to now (an index into targets). */
  private current = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly probeFirstEveryMs: number;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly targets: readonly Target[],
    options: IndexClientOptions,
    private readonly logger: Logger,
  ) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.probeFirstEveryMs = options.probeFirstEveryMs ?? FIRST_SERVER_PROBE_MS;
    this.maxDatagramBytes = options.maxDatagramBytes ?? MAX_DATAGRAM_BYTES;
    this.onMessage = options.onMessage;
    this.onConnectBack = options.onConnectBack;
    this.identity = { name: options.name, token: options.token };
    socket.on('message', (bytes, from) => this.onDatagram(bytes, from));
    socket.on('error', (error) => logger.warn('index.socket.error', { error }));
  }

  /** Resolves the servers' addresses and binds the UDP socket. */
  static async open(options: IndexClientOptions): Promise<IndexClient> {
    const logger = (options.logger ?? silentLogger).child({ component: 'index-client' });
    const servers = serverList(options.server);
    if (servers.length === 0) throw new IndexClientError('BIND', 'no index server given');
    const targets = await Promise.all(servers.map(async ({ host, port }): Promise<Target> => {
      const label = hostPort(host, port);
      return { address: await resolve(host, label), port, label };
    }));
    const families = new Set(targets.map((target) => isIP(target.address)));
    if (families.size > 1) throw new IndexClientError('BIND', `index servers ${targets.map((t) => t.label).join(', ')} mix IPv4 and IPv6: one UDP socket cannot reach both`);
    const family = isIP(targets[0]!.address) === 6 ? 'udp6' : 'udp4';
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
    return new IndexClient(socket, targets, options, logger);
  }

  /** The server requests go to now, as the user named it, for messages: `10.0.0.5:4000`. */
  get serverLabel(): string {
    return this.targets[this.current]!.label;
  }

  /** Every server this client knows, the first preferred. */
  get serverLabels(): string[] {
    return this.targets.map((target) => target.label);
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
    return this.exchange(message, bytes, undefined, this.retry);
  }

  /**
   * Sends `bytes` until `message` is answered: to `pinned` alone, or to the current server, moving
   * to the next after `failoverAfter` unanswered tries there.
   */
  private exchange<K extends UdpRequestType>(message: UdpRequestByType[K], bytes: Buffer, pinned: Target | undefined, policy: RetryPolicy): Promise<UdpRepliesTo[K]> {
    return new Promise<UdpRepliesTo[K]>((resolve, reject) => {
      const started = performance.now();
      const asked = new Set<Target>();
      let attempt = 0;
      let unansweredHere = 0;
      let last: Target | undefined;
      let timer: NodeJS.Timeout | undefined;
      const settle = () => {
        clearTimeout(timer);
        this.inflight.delete(message.rq);
      };
      const send = () => {
        attempt++;
        const target = pinned ?? this.targets[this.current]!;
        unansweredHere = target === last ? unansweredHere + 1 : 1;
        last = target;
        asked.add(target);
        this.socket.send(bytes, target.port, target.address, (error) => {
          if (error) this.logger.warn('index.send.failed', { type: message.type, rq: message.rq, attempt, error });
        });
        this.seen({ direction: 'sent', message, server: target.label, attempt });
        timer = setTimeout(() => {
          if (!pinned && unansweredHere >= policy.failoverAfter) this.failOver(target);
          if (attempt < policy.attempts) return send();
          settle();
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          const tries = `${policy.attempts} ${policy.attempts === 1 ? 'try' : 'tries'}`;
          const who = asked.size === 1 ? `index server ${target.label}` : `index servers ${[...asked].map((t) => t.label).join(', ')}`;
          reject(new IndexClientError('TIMEOUT', `${who} did not answer ${message.type} after ${tries} (${seconds} s)`, message.type));
        }, timeoutFor(policy, attempt));
      };
      this.inflight.set(message.rq, {
        type: message.type,
        asked,
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

  /** `target` stopped answering: the next server takes the requests, if it is still the current one. */
  private failOver(target: Target): void {
    if (this.targets.length < 2 || this.targets[this.current] !== target) return;
    this.current = (this.current + 1) % this.targets.length;
    this.logger.warn('index.server.failover', { from: target.label, to: this.serverLabel });
    this.probeFirst();
  }

  /** While away from the first server, asks it now and then; the first answer brings the client back. */
  private probeFirst(): void {
    if (this.current === 0 || this.probeTimer || this.closed) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      if (this.current === 0 || this.closed) return;
      const first = this.targets[0]!;
      const message = this.stamp(PROBE);
      const once = { ...this.retry, attempts: 1, failoverAfter: 1 };
      this.exchange(message, encodeDatagram(message), first, once).then(
        () => {
          if (this.current === 0) return;
          this.logger.info('index.server.back', { to: first.label, from: this.serverLabel });
          this.current = 0;
        },
        () => this.probeFirst(),
      );
    }, this.probeFirstEveryMs);
    this.probeTimer.unref();
  }

  /** REGISTER (or refresh, with the token we hold); keeps the new token. */
  async register(contact: Omit<Contact, 'udpPort'> & { udpPort?: number }, relayPort?: number): Promise<string> {
    const full: Contact = { ...contact, udpPort: contact.udpPort ?? this.udpPort };
    const sameName = this.identity.name === full.name;
    const reply = await this.ask({
      type: 'REGISTER', ...full, ...(sameName && this.token ? { token: this.token } : {}), ...(relayPort === undefined ? {} : { relayPort }),
    });
    this.identity = { name: full.name, token: reply.token };
    this.lastContact = full;
    if (reply.observedIp !== undefined && reply.observedUdpPort !== undefined) {
      this.seenAs = { observedIp: reply.observedIp, observedUdpPort: reply.observedUdpPort, behindNat: reply.behindNat === true };
    }
    return reply.token;
  }

  /**
   * CALLBACK: asks the server to have `holder` connect to this client's source IP at `tcpPort`,
   * greeting with `nonce` (with `punch`, from its own port `tcpPort`: src/reach/hole-punch.ts).
   * Resolves with CALLBACK-SENT once the server has pushed CONNECT-BACK.
   */
  async callback(holder: string, tcpPort: number, nonce: string, options: { punch?: boolean } = {}): Promise<CallbackSentReply> {
    return await this.ask({ type: 'CALLBACK', name: holder, tcpPort, nonce, ...(options.punch ? { punch: true } : {}) });
  }

  /** WHO-AM-I: how the server sees this client now (with the token: its NAT mapping's current address). */
  async whoAmI(): Promise<SeenAs> {
    const reply: YouAreReply = await this.ask({ type: 'WHO-AM-I' });
    this.seenAs = { observedIp: reply.observedIp, observedUdpPort: reply.observedUdpPort, behindNat: reply.behindNat };
    return this.seenAs;
  }

  /**
   * WHO-AM-I to every other server of the list, one try each. Behind a NAT, each datagram opens the
   * mapping towards that server, so a CONNECT-BACK it pushes gets in: most NATs pass back only what
   * comes from an address the mapping was made for. Resolves with how each answering server sees
   * this client (this.seenAs stays the current server's view).
   */
  async whoAmIAtTheOthers(): Promise<SeenAs[]> {
    const once = { ...this.retry, attempts: 1, failoverAfter: 1 };
    const others = this.targets.filter((target) => target !== this.targets[this.current]);
    const replies = await Promise.all(others.map((target) => {
      const message = this.stamp({ type: 'WHO-AM-I' });
      return this.exchange(message, encodeDatagram(message), target, once).catch(() => undefined);
    }));
    return replies.flatMap((reply) => (reply?.type === 'YOU-ARE' ? [{ observedIp: reply.observedIp, observedUdpPort: reply.observedUdpPort, behindNat: reply.behindNat }] : []));
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

  /** Every peer that shares `file` (every page). Nobody sharing it is the server's SEARCH-ERROR: DENIED, with its reason. */
  async searchFile(file: string): Promise<FileHolder[]> {
    const holders: FileHolder[] = [];
    await this.followPages((cursor) => this.ask({ type: 'SEARCH-FILE', file, ...cursor }), (page) => {
      holders.push(...page.peers);
    });
    return holders;
  }

  /**
   * The files whose names hold every word of `words`, best match first (every page, at most the
   * server's 1,000). A refused query is DENIED with the server's reason.
   */
  async searchWords(words: string): Promise<WordMatch[]> {
    const files: WordMatch[] = [];
    await this.followPages((cursor) => this.ask({ type: 'SEARCH-WORDS', words, ...cursor }), (page) => {
      files.push(...page.files);
    });
    return files;
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
    clearTimeout(this.probeTimer);
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
    const server = this.targets.find((target) => target.address === from.address && target.port === from.port);
    if (!server) {
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
    if (reply.type === 'CONNECT-BACK') {
      // A push, not an answer: its rq is the server's own count, and nothing waits for it.
      this.seen({ direction: 'received', message: reply, server: server.label });
      this.onConnectBack?.(reply);
      return;
    }
    const pending = reply.rq === null ? undefined : this.inflight.get(reply.rq);
    if (!pending) return this.ignore(reply, server, `no request waits for rq ${reply.rq}`);
    if (!pending.asked.has(server)) return this.ignore(reply, server, `rq ${reply.rq} was not sent to ${server.label}`);
    if (reply.type === 'ERROR') {
      this.seen({ direction: 'received', message: reply, server: server.label });
      pending.reject(new IndexClientError(
        'PROTOCOL', `index server ${server.label} could not read our ${pending.type}: ${reply.reason}`, pending.type, reply.reason,
      ));
      return;
    }
    if (reply.type !== SUCCESS[pending.type] && reply.type !== UDP_REFUSAL[pending.type]) {
      return this.ignore(reply, server, `${reply.type} does not answer ${pending.type}`);
    }
    this.seen({ direction: 'received', message: reply, server: server.label });
    pending.resolve(reply);
  }

  private ignore(reply: UdpReply, server: Target, why: string): void {
    this.logger.warn('index.reply.ignored', { type: reply.type, rq: reply.rq, why });
    this.seen({ direction: 'received', message: reply, server: server.label, ignored: why });
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

/** One server or several, as a list. */
export function serverList(server: ServerAddress | readonly ServerAddress[]): readonly ServerAddress[] {
  return 'host' in server ? [server] : server;
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
