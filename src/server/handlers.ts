// What the server answers: one small function per request type, over the registry, in two tables
// (reads answer from memory on the spot, mutations once the store has the change), behind one entry,
// Answers.answer(). Their types make a request type added to the spec without a handler a compile
// error. A handler returns its success reply or a Refused (a reason and its code); a RegistryError
// thrown by the registry becomes one too, and each becomes the type's refusal, counted by code.
//
// A read goes down once: the client's standing (registry), the reply kept for the same question
// (replies/kept-pages.ts), else its handler and its page (pages/), kept for the next asker.
import { createHash } from 'node:crypto';
import { UDP_REFUSAL, type UdpReply, type UdpRepliesTo, type UdpRequest, type UdpRequestByType, type UdpRequestType } from '../generated/catalogue.js';
import type { ErrorCode } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { RegistryError, showContact, type Credentials, type Registry, type UdpContact } from '../registry/index.js';
import type { RequestKey } from '../stores/index.js';
import type { Counters } from './counters.js';
import { CURSOR_REASON, decodeAllCursor, decodeInfotCursor, decodeSearchCursor, decodeWordsCursor } from './pages/cursor.js';
import { encodePage, encodeReply, type Page } from './pages/encode.js';
import { infotPage, retrievePage, searchPage, wordsPage } from './pages/paging.js';
import type { CallbackRelay } from './callbacks.js';
import type { KeptPages } from './replies/kept-pages.js';

export interface RequestContext {
  registry: Registry;
  /** The datagram's source, IPv4-mapped addresses already turned into plain IPv4. */
  from: UdpContact;
  /** No reply may be larger than this many bytes. */
  maxDatagram: number;
  /** A mutation on a shared registry: the store keeps its outcome under this, for a retry elsewhere. */
  request?: RequestKey;
  /** Where CALLBACK pushes CONNECT-BACK (a server without a socket to push through refuses it). */
  callbacks?: CallbackRelay | undefined;
}

/** Requests answered from memory: no promise per request (one cost a tenth of a SEARCH-FILE). */
export type ReadType = 'RETRIEVE-ALL' | 'RETRIEVE-INFOT' | 'SEARCH-FILE' | 'SEARCH-WORDS';
export type MutationType = Exclude<UdpRequestType, ReadType>;
export type ReadRequest = UdpRequestByType[ReadType];
export type MutationRequest = UdpRequestByType[MutationType];

/**
 * A refusal a handler makes itself (a cursor it cannot read, nobody sharing the file), with the
 * code the counters file it under; Answers turns it into the request's refusal reply, as it does a
 * RegistryError. Codes: src/errors/codes.ts (Refusal).
 */
export class Refused {
  constructor(
    readonly code: RefusalCode,
    readonly reason: string,
  ) {}
}

/** Why a request was refused: a registry's refusal, a schema broken (INVALID), or the server's own. */
export type RefusalCode = RegistryError['code'] | 'INVALID' | ErrorCode<'Refusal'>;

type ReadHandler<K extends ReadType> = (request: UdpRequestByType[K], ctx: RequestContext) => UdpRepliesTo[K] | Refused;
type MutationHandler<K extends MutationType> = (request: UdpRequestByType[K], ctx: RequestContext) => Promise<UdpRepliesTo[K] | Refused>;

const credentials = (request: { token?: string }, ctx: RequestContext): Credentials => ({ token: request.token, from: ctx.from, request: ctx.request });
const contactOf = ({ ip, udpPort, tcpPort }: { ip: string; udpPort: number; tcpPort: number }) => ({ ip, udpPort, tcpPort });

async function register(request: UdpRequestByType['REGISTER'], ctx: RequestContext): Promise<UdpRepliesTo['REGISTER']> {
  const { token } = await ctx.registry.register(request.name, contactOf(request), credentials(request, ctx), request.relayPort);
  const peer = ctx.registry.peer(request.name);
  // How the server sees the peer: a retry answered from the store elsewhere may find it gone already.
  if (!peer) return { type: 'REGISTERED', rq: request.rq, token };
  return { type: 'REGISTERED', rq: request.rq, token, observedIp: peer.observedIp, observedUdpPort: peer.observedUdpPort, behindNat: peer.behindNat };
}

async function callback(request: UdpRequestByType['CALLBACK'], ctx: RequestContext): Promise<UdpRepliesTo['CALLBACK'] | Refused> {
  if (!ctx.callbacks) return new Refused('INTERNAL', 'this server cannot push CONNECT-BACK (it has no socket to send from)');
  return ctx.callbacks.relay(request, ctx.registry, ctx.from);
}

async function whoAmI(request: UdpRequestByType['WHO-AM-I'], ctx: RequestContext): Promise<UdpRepliesTo['WHO-AM-I']> {
  const peer = await ctx.registry.whoAmI(credentials(request, ctx));
  const { name, ip, udpPort, observedIp, observedUdpPort, behindNat } = peer;
  return { type: 'YOU-ARE', rq: request.rq, name, ip, udpPort, observedIp, observedUdpPort, behindNat };
}

async function deregister(request: UdpRequestByType['DE-REGISTER'], ctx: RequestContext): Promise<UdpRepliesTo['DE-REGISTER']> {
  await ctx.registry.deregister(request.name, credentials(request, ctx));
  return { type: 'DE-REGISTERED', rq: request.rq };
}

async function publish(request: UdpRequestByType['PUBLISH'], ctx: RequestContext): Promise<UdpRepliesTo['PUBLISH']> {
  await ctx.registry.publish(request.name, request.files, credentials(request, ctx));
  return { type: 'PUBLISHED', rq: request.rq };
}

async function remove(request: UdpRequestByType['REMOVE'], ctx: RequestContext): Promise<UdpRepliesTo['REMOVE']> {
  await ctx.registry.remove(request.name, request.files, credentials(request, ctx));
  return { type: 'REMOVED', rq: request.rq };
}

async function updateContact(request: UdpRequestByType['UPDATE-CONTACT'], ctx: RequestContext): Promise<UdpRepliesTo['UPDATE-CONTACT']> {
  const now = await ctx.registry.updateContact(request.name, contactOf(request), credentials(request, ctx));
  return { type: 'UPDATE-CONFIRMED', rq: request.rq, name: request.name, ...now };
}

const BAD_CURSOR = new Refused('BAD_CURSOR', CURSOR_REASON);

function retrieveAll(request: UdpRequestByType['RETRIEVE-ALL'], ctx: RequestContext): UdpRepliesTo['RETRIEVE-ALL'] | Refused {
  const from = request.cursor === undefined ? undefined : decodeAllCursor(request.cursor);
  if (request.cursor !== undefined && !from) return BAD_CURSOR;
  return retrievePage(ctx.registry, request.rq, from, ctx.maxDatagram);
}

function retrieveInfot(request: UdpRequestByType['RETRIEVE-INFOT'], ctx: RequestContext): UdpRepliesTo['RETRIEVE-INFOT'] | Refused {
  const from = request.cursor === undefined ? undefined : decodeInfotCursor(request.cursor);
  if (request.cursor !== undefined && !from) return BAD_CURSOR;
  const peer = ctx.registry.peer(request.name);
  if (!peer) return new Refused('PEER_UNKNOWN', `peer ${JSON.stringify(request.name)} is not registered`);
  return infotPage(peer, request.rq, from, ctx.maxDatagram);
}

function searchFile(request: UdpRequestByType['SEARCH-FILE'], ctx: RequestContext): UdpRepliesTo['SEARCH-FILE'] | Refused {
  const from = request.cursor === undefined ? undefined : decodeSearchCursor(request.cursor);
  if (request.cursor !== undefined && !from) return BAD_CURSOR;
  // The course's rule: a registered client asking for a file nobody shares gets SEARCH-ERROR. (A
  // later page may still come back empty, when the holders it would list left meanwhile.)
  if (!from && ctx.registry.holdersOf(request.file).length === 0) return new Refused('NOT_SHARED', `nobody shares ${JSON.stringify(request.file)}`);
  return searchPage(ctx.registry, request.file, request.rq, from, ctx.maxDatagram);
}

function searchWords(request: UdpRequestByType['SEARCH-WORDS'], ctx: RequestContext): UdpRepliesTo['SEARCH-WORDS'] | Refused {
  const from = request.cursor === undefined ? undefined : decodeWordsCursor(request.cursor);
  if (request.cursor !== undefined && !from) return BAD_CURSOR;
  const matches = ctx.registry.matchWords(request.words);
  if ('refused' in matches) return new Refused(matches.refused, matches.reason);
  return wordsPage(ctx.registry, matches, request.rq, from, ctx.maxDatagram);
}

const READ_HANDLERS: { [K in ReadType]: ReadHandler<K> } = {
  'RETRIEVE-ALL': retrieveAll,
  'RETRIEVE-INFOT': retrieveInfot,
  'SEARCH-FILE': searchFile,
  'SEARCH-WORDS': searchWords,
};

const MUTATION_HANDLERS: { [K in MutationType]: MutationHandler<K> } = {
  'REGISTER': register,
  'DE-REGISTER': deregister,
  'PUBLISH': publish,
  'REMOVE': remove,
  'UPDATE-CONTACT': updateContact,
  'WHO-AM-I': whoAmI,
  'CALLBACK': callback,
};

export const isRead = (request: UdpRequest): request is ReadRequest => Object.hasOwn(READ_HANDLERS, request.type);


export const INTERNAL_ERROR = 'the server failed to handle this request (an internal error, logged); try again';

/**
 * Replies that must not be kept for a retransmission: refusals of a mutation whose outcome the store
 * did not confirm. The retry must ask again (and find the change if it landed), not get the refusal.
 */
const provisional = new WeakSet<Buffer>();
export const isProvisional = (reply: Buffer): boolean => provisional.has(reply);

export interface AnswerParts {
  registry: Registry;
  maxDatagram: number;
  keptPages: KeptPages;
  counters: Counters;
  log: Logger;
  callbacks?: CallbackRelay;
}

export class Answers {
  private readonly debug: boolean;

  constructor(private readonly parts: AnswerParts) {
    this.debug = parts.log.enabled('debug');
  }

  /**
   * The reply to one decoded request (`bytes`: the datagram it came in), as bytes: on this turn for a
   * read answered from memory, once the store has the change for a mutation. On a shared registry a
   * read that would miss first waits briefly for the changes other servers committed before it.
   */
  answer(request: UdpRequest, from: UdpContact, bytes: Buffer): Buffer | Promise<Buffer> {
    return isRead(request) ? this.read(request, from, this.parts.registry.shared) : this.mutate(request as MutationRequest, from, bytes);
  }

  private read(request: ReadRequest, from: UdpContact, catchUpOnMiss: boolean): Buffer | Promise<Buffer> {
    const { registry, maxDatagram, keptPages, log } = this.parts;
    const ctx: RequestContext = { registry, from, maxDatagram };
    let reply: UdpReply | Refused;
    try {
      // Reads answer registered clients only (the brief: queries from unregistered clients get their
      // error type), so the client's standing comes before any kept reply; it marks them as seen.
      registry.requireClient(credentials(request, ctx));
      const kept = keptPages.find(request);
      if (kept) {
        const bytes = kept.withRq(request.rq);
        if (this.debug) log.debug('reply', { to: showContact(from), type: kept.type, rq: request.rq, bytes: bytes.length, kept: true });
        return bytes;
      }
      reply = (READ_HANDLERS[request.type] as ReadHandler<ReadType>)(request, ctx);
    } catch (error) {
      reply = this.refusedBy(request, error, from);
    }
    // A client registered, or a file published, through another server a moment ago: read our own writes.
    if (catchUpOnMiss && isMiss(reply)) return registry.caughtUp().then(() => this.read(request, from, false));
    if (reply instanceof Refused) return this.encode(this.refuse(request, reply), from);
    const bytes = encodePage(reply as Page);
    if (bytes.length > maxDatagram) return this.encode(reply, from); // a paging bug: logged, answered with ERROR
    keptPages.keep(request, reply, bytes);
    if (this.debug) log.debug('reply', { to: showContact(from), type: reply.type, rq: reply.rq, bytes: bytes.length });
    return bytes;
  }

  private async mutate(request: MutationRequest, from: UdpContact, bytes: Buffer): Promise<Buffer> {
    const { registry, maxDatagram, callbacks } = this.parts;
    const ctx: RequestContext = { registry, from, maxDatagram, callbacks };
    if (registry.shared) ctx.request = { key: `${from.ip}|${from.port}|${request.rq}`, digest: createHash('sha256').update(bytes).digest('base64url') };
    let reply: UdpReply;
    let settled = true;
    try {
      const answer = await (MUTATION_HANDLERS[request.type] as MutationHandler<MutationType>)(request as never, ctx);
      reply = answer instanceof Refused ? this.refuse(request, answer) : answer;
    } catch (error) {
      reply = this.refuse(request, this.refusedBy(request, error, from));
      settled = !(error instanceof RegistryError && error.code === 'STORE_UNCONFIRMED');
    }
    const encoded = this.encode(reply, from);
    if (!settled) provisional.add(encoded);
    return encoded;
  }

  /** A registry's refusal becomes the request's refusal; anything else is a bug, logged, and answered as one. */
  private refusedBy(request: UdpRequest, error: unknown, from: UdpContact): Refused {
    if (error instanceof RegistryError) return new Refused(error.code, error.reason);
    this.parts.log.error('handler failed', { from: showContact(from), type: request.type, rq: request.rq, error });
    return new Refused('INTERNAL', INTERNAL_ERROR);
  }

  /** The request's refusal reply, counted under its code. */
  private refuse(request: UdpRequest, refused: Refused): UdpReply {
    const reply = refusal(request.type, request.rq, refused.reason, request);
    this.parts.counters.refuse(reply.type, refused.code);
    return reply;
  }

  private encode(reply: UdpReply, to: UdpContact): Buffer {
    const { log, maxDatagram } = this.parts;
    const bytes = encodeReply(reply, maxDatagram) ?? overLimit(reply, maxDatagram, log);
    if (this.debug) log.debug('reply', { to: showContact(to), type: reply.type, rq: reply.rq, bytes: bytes.length });
    return bytes;
  }
}

/** Refusals that would not change with more of the shared change log: the question itself is wrong. */
const NOT_MISSES: ReadonlySet<RefusalCode> = new Set(['BAD_CURSOR', 'NO_WORDS', 'TOO_MANY_WORDS', 'WORDS_TOO_COMMON']);

/**
 * A read whose answer says someone or something is not there: the client is not registered, nor the
 * peer asked for, nobody shares the file (SEARCH-ERROR), or no name holds the words (an empty first
 * WORDS-FOUND).
 */
function isMiss(answer: UdpReply | Refused): boolean {
  if (answer instanceof Refused) return !NOT_MISSES.has(answer.code);
  return answer.type === 'WORDS-FOUND' && answer.files.length === 0 && answer.next === undefined;
}

/** ERROR in place of a reply over the datagram limit: never sent, but logged as the bug it is. */
export function overLimit(reply: UdpReply, limit: number, log: Logger): Buffer {
  log.error('reply over the datagram limit', { type: reply.type, rq: reply.rq, limit });
  return Buffer.from(JSON.stringify({ type: 'ERROR', rq: reply.rq, reason: INTERNAL_ERROR }));
}

/** Longest name UPDATE-DENIED echoes (its schema's maxLength). */
const ECHOED_NAME_CHARS = 64;

/** The refusal reply of a request type, with the reason a person can act on. */
export function refusal(type: UdpRequestType, rq: number, reason: string, received?: Record<string, unknown> | UdpRequest): UdpReply {
  const refusalType = UDP_REFUSAL[type];
  if (refusalType !== 'UPDATE-DENIED') return { type: refusalType, rq, reason };
  const name = (received as Record<string, unknown> | undefined)?.name;
  return { type: refusalType, rq, name: typeof name === 'string' ? [...name].slice(0, ECHOED_NAME_CHARS).join('') : null, reason };
}
