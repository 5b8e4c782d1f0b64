// The one error type the protocol edge throws. `code` says what went wrong; `drop` says whether the
// bytes deserve no answer at all (garbage: answering it only helps reflection attacks).

export type ProtocolErrorCode =
  | 'TOO_LARGE' // a datagram or line over the size limit
  | 'NOT_UTF8'
  | 'NOT_JSON'
  | 'NOT_OBJECT' // valid JSON, but not a JSON object
  | 'UNKNOWN_TYPE' // a JSON object whose type is missing or not one this side accepts
  | 'BAD_RQ' // a known request type whose rq cannot be read (replies leave rq to their schema: INVALID)
  | 'INVALID'; // a known type that breaks its schema

const GARBAGE: ReadonlySet<ProtocolErrorCode> = new Set(['TOO_LARGE', 'NOT_UTF8', 'NOT_JSON', 'NOT_OBJECT']);

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** The message's `type` when it is a known type (so the caller can pick its refusal reply). */
  readonly messageType: string | undefined;
  /** The request's rq when it could be read, else null. */
  readonly rq: number | null;
  /** The parsed object when the bytes were a JSON object (lets a refusal echo e.g. the name). */
  readonly received: Record<string, unknown> | undefined;

  constructor(
    readonly code: ProtocolErrorCode,
    readonly reason: string,
    details: { messageType?: string; rq?: number | null; received?: Record<string, unknown> } = {},
  ) {
    super(reason);
    this.messageType = details.messageType;
    this.rq = details.rq ?? null;
    this.received = details.received;
  }

  /** True when the input gets no reply: it was not a JSON object within the size limit. */
  get drop(): boolean {
    return GARBAGE.has(this.code);
  }
}
