// The one error type the protocol edge throws. `code` says what went wrong (src/errors/codes.ts);
// `drop` says whether the bytes deserve no answer at all (garbage: answering it only helps
// reflection attacks).
import { P2fsError, type ErrorCode } from '../errors/index.js';

export type ProtocolErrorCode = ErrorCode<'ProtocolError'>;

const GARBAGE: ReadonlySet<ProtocolErrorCode> = new Set(['TOO_LARGE', 'NOT_UTF8', 'NOT_JSON', 'NOT_OBJECT']);

export class ProtocolError extends P2fsError<ProtocolErrorCode> {
  override readonly name = 'ProtocolError';
  /** The message's `type` when it is a known type (so the caller can pick its refusal reply). */
  readonly messageType: string | undefined;
  /** The request's rq when it could be read, else null. */
  readonly rq: number | null;
  /** The parsed object when the bytes were a JSON object (lets a refusal echo e.g. the name). */
  readonly received: Record<string, unknown> | undefined;

  constructor(
    code: ProtocolErrorCode,
    readonly reason: string,
    details: { messageType?: string; rq?: number | null; received?: Record<string, unknown> } = {},
  ) {
    super(code, reason);
    this.messageType = details.messageType;
    this.rq = details.rq ?? null;
    this.received = details.received;
  }

  /** True when the input gets no reply: it was not a JSON object within the size limit. */
  get drop(): boolean {
    return GARBAGE.has(this.code);
  }
}
