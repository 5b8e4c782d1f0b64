// The one error type of the index client. `code` is stable (scripts and the GUI switch on it;
// src/errors/codes.ts); `message` is a sentence for people.
import { P2fsError, type ErrorCode } from '../errors/index.js';

export type IndexClientErrorCode = ErrorCode<'IndexClientError'>;

export class IndexClientError extends P2fsError<IndexClientErrorCode> {
  override readonly name = 'IndexClientError';
  constructor(
    code: IndexClientErrorCode,
    message: string,
    /** The request type it concerns, when there is one. */
    readonly requestType?: string,
    /** The server's own reason for a DENIED or PROTOCOL error. */
    readonly reason?: string,
  ) {
    super(code, message);
  }
}
