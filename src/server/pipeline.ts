// What happens to one datagram, in order: rate limit → decode (src/protocol) → the reply already given
// to the same request (replies/) → Answers.answer() (handlers.ts). Returns the bytes to send back (at
// once for a read, as a promise for a mutation that awaits the store), or null for no reply. No
// sockets here: the socket loop calls receive() and sends what it returns, and tests can call it
// directly.
import type { UdpReply, UdpRequest, UdpRequestType } from '../generated/catalogue.js';
import type { Logger } from '../log/index.js';
import { decodeUdpRequest, ProtocolError } from '../protocol/index.js';
import { showContact, type UdpContact } from '../registry/index.js';
import type { Counters } from './counters.js';
import { isProvisional, isRead, overLimit, refusal, type Answers, type MutationRequest, type ReadRequest } from './handlers.js';
import { encodeReply } from './pages/encode.js';
import type { RateLimiter } from './rate-limit.js';
import type { CachedReply, MutationReplyCache } from './replies/mutation-replies.js';
import type { ReadReplyCache } from './replies/read-replies.js';

export interface PipelineParts {
  answers: Answers;
  maxDatagram: number;
  log: Logger;
  counters: Counters;
  readReplies: ReadReplyCache;
  mutationReplies: MutationReplyCache;
  limiter: RateLimiter | undefined;
}

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

  /** A read is answered from memory on this turn (a miss on a shared registry may wait to catch up). */
  private read(request: ReadRequest, bytes: Buffer, from: UdpContact): CachedReply {
    const { readReplies, answers } = this.parts;
    const repeated = readReplies.lookup(from.ip, from.port, request.rq, bytes);
    if (repeated) return this.retransmission(request, from, repeated);
    const reply = answers.answer(request, from, bytes);
    if (!(reply instanceof Promise)) {
      readReplies.remember(from.ip, from.port, request.rq, bytes, reply);
      return reply;
    }
    return this.track(reply).then((ready) => {
      readReplies.remember(from.ip, from.port, request.rq, bytes, ready);
      return ready;
    });
  }

  /**
   * A mutation is answered once the store has it; a repeat meanwhile gets the same pending reply. A
   * refusal whose outcome the store did not confirm is not kept: the repeat asks again.
   */
  private mutate(request: MutationRequest, bytes: Buffer, from: UdpContact): CachedReply {
    const { mutationReplies, answers } = this.parts;
    const repeated = mutationReplies.lookup(from.ip, from.port, request.rq, bytes);
    if (repeated) return this.retransmission(request, from, repeated);
    const reply = this.track(answers.answer(request, from, bytes) as Promise<Buffer>);
    mutationReplies.remember(from.ip, from.port, request.rq, bytes, reply);
    void reply.then((ready) => {
      if (isProvisional(ready)) mutationReplies.forget(from.ip, from.port, request.rq, reply);
    });
    return reply;
  }

  /** Counts a reply being computed until it is ready (shutdown waits for them). */
  private track(reply: Promise<Buffer>): Promise<Buffer> {
    this.busy++;
    return reply.finally(() => {
      if (--this.busy === 0) this.idle?.();
    });
  }

  private retransmission<R extends CachedReply>(request: UdpRequest, from: UdpContact, reply: R): R {
    this.parts.counters.retransmissions++;
    if (this.debug) this.parts.log.debug('retransmission answered from the reply cache', { from: showContact(from), type: request.type, rq: request.rq });
    return reply;
  }

  /** Garbage gets nothing; a JSON object that breaks the schema gets its type's refusal, or ERROR. */
  private refuseUndecodable(error: ProtocolError, bytes: Buffer, from: UdpContact): Buffer | null {
    const { counters, log, maxDatagram } = this.parts;
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
    if (reply.type === 'ERROR') counters.errors++;
    else counters.refuse(reply.type, 'INVALID');
    const encoded = encodeReply(reply, maxDatagram) ?? overLimit(reply, maxDatagram, log);
    if (this.debug) log.debug('reply', { to: showContact(from), type: reply.type, rq: reply.rq, bytes: encoded.length });
    return encoded;
  }
}
