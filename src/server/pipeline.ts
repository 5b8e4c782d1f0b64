// What happens to one datagram, in order: rate limit → decode (src/protocol) → reply cache →
// handler (for a read, unless the same question's reply is kept) → encode. Returns the bytes to send
// back (at once for a read, as a promise for a mutation that awaits the store), or null for no reply.
// No sockets here: the socket loop calls receive() and sends what it returns, and tests can call it
// directly.
import { UDP_REFUSAL, type UdpReply, type UdpRequest, type UdpRequestType } from '../generated/catalogue.js';
import type { Logger } from '../log/index.js';
import { decodeUdpRequest, encodeDatagram, ProtocolError } from '../protocol/index.js';
import { showContact, type Registry, type UdpContact } from '../registry/index.js';
import type { Counters } from './counters.js';
import { answerMutation, answerRead, isRead, refusal, refuseReader, type MutationRequest, type ReadRequest } from './handlers.js';
import type { KeptPages } from './kept-pages.js';
import type { RateLimiter } from './rate-limit.js';
import type { ReadReplyCache } from './read-reply-cache.js';
import type { CachedReply, MutationReplyCache } from './reply-cache.js';

export interface PipelineParts {
  registry: Registry;
  maxDatagram: number;
  log: Logger;
  counters: Counters;
  readReplies: ReadReplyCache;
  mutationReplies: MutationReplyCache;
  keptPages: KeptPages;
  limiter: RateLimiter | undefined;
}

const REFUSAL_TYPES: ReadonlySet<string> = new Set(Object.values(UDP_REFUSAL));
const isRefusal = (reply: UdpReply): boolean => REFUSAL_TYPES.has(reply.type);
const INTERNAL_ERROR = 'the server failed to handle this request (an internal error, logged); try again';

export class DatagramPipeline {
  private readonly debug: boolean;
  /** Requests being handled now (shutdown waits for them). */
  private busy = 0;
  private idle: (() => void) | undefined;

  constructor(private readonly parts: PipelineParts) {
    this.debug = parts.log.enabled('debug');
  }

  /** The reply to one datagram from `from`, or null when it gets none (garbage, over the rate limit). */
  receive(bytes: Buffer, from: UdpContact): CachedReply | null {
    const { counters, limiter, log } = this.parts;
    counters.received++;
    if (limiter && !limiter.admit(from.ip)) {
      counters.rateLimited++;
      return null;
    }
    let request: UdpRequest;
    try {
      request = decodeUdpRequest(bytes, this.parts.maxDatagram);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return this.refuseUndecodable(error, bytes, from);
    }
    counters.requests[request.type]++;
    if (this.debug) log.debug('received', { from: showContact(from), type: request.type, rq: request.rq, bytes: bytes.length });
    return isRead(request) ? this.read(request, bytes, from) : this.mutate(request as MutationRequest, bytes, from);
  }

  /** Resolves when every reply being computed now is ready (shutdown waits for it). */
  drained(): Promise<void> {
    return this.busy === 0 ? Promise.resolve() : new Promise((resolve) => (this.idle = resolve));
  }

  /** A read is answered from memory on this turn. */
  private read(request: ReadRequest, bytes: Buffer, from: UdpContact): Buffer {
    const { readReplies } = this.parts;
    const repeated = readReplies.lookup(from.ip, from.port, request.rq, bytes);
    if (repeated) return this.retransmission(request, from, repeated);
    const encoded = this.readReply(request, from);
    readReplies.remember(from.ip, from.port, request.rq, bytes, encoded);
    return encoded;
  }

  /** A refusal, the reply kept for the same question, or the handler's answer (kept for the next). */
  private readReply(request: ReadRequest, from: UdpContact): Buffer {
    const { registry, maxDatagram, keptPages, log } = this.parts;
    const ctx = { registry, from, maxDatagram };
    const refused = refuseReader(request, ctx);
    if (refused) return this.encode(refused, from);
    const kept = keptPages.find(request);
    if (kept) {
      const encoded = kept.withRq(request.rq);
      if (this.debug) log.debug('reply', { to: showContact(from), type: kept.type, rq: request.rq, bytes: encoded.length, kept: true });
      return encoded;
    }
    let reply: UdpReply;
    try {
      reply = answerRead(request, ctx);
    } catch (error) {
      return this.encode(this.failed(error, request, from), from);
    }
    const encoded = this.encode(reply, from);
    if (!isRefusal(reply)) keptPages.keep(request, reply, encoded);
    return encoded;
  }

  /** A mutation is answered once the store has it; a repeat meanwhile gets the same pending reply. */
  private mutate(request: MutationRequest, bytes: Buffer, from: UdpContact): CachedReply {
    const { mutationReplies, registry, maxDatagram } = this.parts;
    const repeated = mutationReplies.lookup(from.ip, from.port, request.rq, bytes);
    if (repeated) return this.retransmission(request, from, repeated);
    this.busy++;
    const reply = answerMutation(request, { registry, from, maxDatagram })
      .catch((error: unknown) => this.failed(error, request, from))
      .then((ready) => {
        if (--this.busy === 0) this.idle?.();
        return this.encode(ready, from);
      });
    mutationReplies.remember(from.ip, from.port, request.rq, bytes, reply);
    return reply;
  }

  private retransmission<R extends CachedReply>(request: UdpRequest, from: UdpContact, reply: R): R {
    this.parts.counters.retransmissions++;
    if (this.debug) this.parts.log.debug('retransmission answered from the reply cache', { from: showContact(from), type: request.type, rq: request.rq });
    return reply;
  }

  private failed(error: unknown, request: UdpRequest, from: UdpContact): UdpReply {
    this.parts.log.error('handler failed', { from: showContact(from), type: request.type, rq: request.rq, error });
    return refusal(request.type, request.rq, INTERNAL_ERROR, request);
  }

  private refuseUndecodable(error: ProtocolError, bytes: Buffer, from: UdpContact): Buffer | null {
    const { counters, log } = this.parts;
    if (error.drop) {
      counters.dropped++;
      if (this.debug) log.debug('dropped', { from: showContact(from), code: error.code, reason: error.reason, bytes: bytes.length });
      return null;
    }
    if (error.code === 'INVALID') counters.requests[error.messageType as UdpRequestType]++;
    if (this.debug) log.debug('received', { from: showContact(from), type: error.messageType ?? null, rq: error.rq, bytes: bytes.length, invalid: error.reason });
    const reply: UdpReply =
      error.code === 'INVALID'
        ? refusal(error.messageType as UdpRequestType, error.rq!, error.reason, error.received)
        : { type: 'ERROR', rq: error.rq, reason: error.reason };
    return this.encode(reply, from);
  }

  private encode(reply: UdpReply, to: UdpContact): Buffer {
    const { counters, log, maxDatagram } = this.parts;
    if (reply.type === 'ERROR') counters.errors++;
    else if (isRefusal(reply)) counters.refused++;
    let bytes = encodeDatagram(reply);
    if (bytes.length > maxDatagram) bytes = this.shrink(reply, bytes.length);
    if (this.debug) log.debug('reply', { to: showContact(to), type: reply.type, rq: reply.rq, bytes: bytes.length });
    return bytes;
  }

  /**
   * Last line of defence for "no reply exceeds the limit": a refusal quoting long values gets its
   * reason shortened; anything else over the limit is a paging bug, logged and replaced by ERROR.
   */
  private shrink(reply: UdpReply, size: number): Buffer {
    const { log, maxDatagram } = this.parts;
    if ('reason' in reply) {
      const chars = [...reply.reason];
      for (let keep = chars.length - 1; keep > 0; keep--) {
        const bytes = Buffer.from(JSON.stringify({ ...reply, reason: `${chars.slice(0, keep).join('')}…` }));
        if (bytes.length <= maxDatagram) return bytes;
      }
    }
    log.error('reply over the datagram limit', { type: reply.type, rq: reply.rq, bytes: size, limit: maxDatagram });
    return Buffer.from(JSON.stringify({ type: 'ERROR', rq: reply.rq, reason: INTERNAL_ERROR }));
  }
}
