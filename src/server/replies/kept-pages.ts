// Replies to reads, kept as bytes while the registry stays as it was. Most reads ask what someone
// asked a moment ago (a popular file, the first page of a peer's files), and paging and encoding the
// answer again cost more than everything else the server does for the request. A page depends on
// its question alone, not on its rq (pages/paging.ts measures every page as if its rq were the largest),
// so a kept reply is the bytes before and after its rq, and any rq fits between them.
//
// Any change to the registry (a registration, a contact, a file) drops every kept reply: the next
// answer is computed afresh. Kept replies are never refusals, so the client's standing is checked
// before one is looked for (handlers.ts).
import type { UdpReply } from '../../generated/catalogue.js';
import type { Registry } from '../../registry/index.js';
import type { ReadRequest, ReadType } from '../handlers.js';
import { decimalDigits } from '../pages/sizes.js';

/** Questions kept at most per kind of read; the oldest goes first. Each reply is one datagram at most. */
export const KEPT_PAGES_PER_READ = 4_096;

/** A reply kept for everyone who asks the same question: its type, and its bytes around the rq. */
export class KeptReply {
  constructor(
    readonly type: UdpReply['type'],
    private readonly head: Buffer,
    private readonly tail: Buffer,
  ) {}

  /** The reply's bytes with `rq` in place. */
  withRq(rq: number): Buffer {
    const { head, tail } = this;
    const digits = decimalDigits(rq);
    const bytes = Buffer.allocUnsafe(head.length + digits + tail.length);
    bytes.set(head, 0);
    for (let at = head.length + digits - 1, rest = rq; at >= head.length; at--, rest = Math.floor(rest / 10)) bytes[at] = 0x30 + (rest % 10);
    bytes.set(tail, head.length + digits);
    return bytes;
  }
}

/**
 * One kind of read's questions (subject, and cursor if any) and their replies, at most `limit`, the
 * oldest going first. The order is a ring of its own: deleting from the front of a V8 Map leaves
 * holes that the next look for its first key walks (1.5 µs per eviction at 4,096 entries).
 */
class Questions {
  private readonly replies = new Map<string, KeptReply>();
  private readonly order: string[] = [];
  /** Where the next question goes in `order`; once full, the place of the oldest. */
  private next = 0;

  constructor(private readonly limit: number) {}

  get(question: string): KeptReply | undefined {
    return this.replies.get(question);
  }

  add(question: string, reply: KeptReply): void {
    if (this.replies.has(question)) {
      this.replies.set(question, reply);
      return;
    }
    if (this.replies.size >= this.limit) this.replies.delete(this.order[this.next]!);
    this.order[this.next] = question;
    this.next = (this.next + 1) % this.limit;
    this.replies.set(question, reply);
  }

  clear(): void {
    this.replies.clear();
    this.next = 0;
  }

  get size(): number {
    return this.replies.size;
  }
}

export class KeptPages {
  private readonly kept: Record<ReadType, Questions>;
  /** The registry revision the kept replies were computed at. */
  private revision: number;

  constructor(
    private readonly registry: Pick<Registry, 'revision'>,
    perRead = KEPT_PAGES_PER_READ,
  ) {
    this.kept = {
      'RETRIEVE-ALL': new Questions(perRead),
      'RETRIEVE-INFOT': new Questions(perRead),
      'SEARCH-FILE': new Questions(perRead),
      'SEARCH-WORDS': new Questions(perRead),
    };
    this.revision = registry.revision;
  }

  /** The reply kept for this read's question, if the registry has not changed since it was computed. */
  find(request: ReadRequest): KeptReply | undefined {
    if (this.isStale()) return undefined;
    return this.kept[request.type].get(questionOf(request));
  }

  /**
   * Keeps `bytes`, the encoded `reply` this read got just now, for the next client that asks the
   * same. A reply whose bytes do not start with its type and rq (never, from pages/encode.ts) is
   * not kept.
   */
  keep(request: ReadRequest, reply: UdpReply, bytes: Buffer): void {
    this.isStale();
    const head = headOf(reply.type);
    const rqEnd = head.length + decimalDigits(request.rq);
    if (bytes.length <= rqEnd || !bytes.subarray(0, head.length).equals(head) || bytes.toString('latin1', head.length, rqEnd) !== String(request.rq)) return;
    // Its own memory, not a slice of Node's shared pool: a kept slice would pin the whole pool chunk.
    const tail = Buffer.allocUnsafeSlow(bytes.length - rqEnd);
    bytes.copy(tail, 0, rqEnd);
    this.kept[request.type].add(questionOf(request), new KeptReply(reply.type, head, tail));
  }

  /** Replies kept now. */
  get size(): number {
    let size = 0;
    for (const questions of Object.values(this.kept)) size += questions.size;
    return size;
  }

  /** Drops everything once the registry has changed; true when it had. */
  private isStale(): boolean {
    if (this.registry.revision === this.revision) return false;
    for (const questions of Object.values(this.kept)) questions.clear();
    this.revision = this.registry.revision;
    return true;
  }
}

/**
 * What a read asks, as a key: its subject, and its cursor after a newline (which no name, file name or
 * cursor contains). Without a cursor, the subject string itself, so the lookup hashes nothing new.
 */
function questionOf(request: ReadRequest): string {
  const subject = subjectOf(request);
  return request.cursor === undefined ? subject : `${subject}\n${request.cursor}`;
}

function subjectOf(request: ReadRequest): string {
  switch (request.type) {
    case 'SEARCH-FILE':
      return request.file;
    case 'SEARCH-WORDS':
      return request.words;
    case 'RETRIEVE-INFOT':
      return request.name;
    case 'RETRIEVE-ALL':
      return '';
  }
}

/** `{"type":"<type>","rq":`, the bytes every page starts with (pages/encode.ts). */
const heads = new Map<string, Buffer>();

function headOf(type: string): Buffer {
  let head = heads.get(type);
  if (!head) heads.set(type, (head = Buffer.from(`{"type":${JSON.stringify(type)},"rq":`)));
  return head;
}
