// The one error type starting the index server throws: a bad option (the CLI exits with code 2 on
// it), a port it cannot bind, or a store it cannot open (codes: src/errors/codes.ts). Refusals of
// requests are replies, not errors.
import { P2fsError, type ErrorCode } from '../errors/index.js';

export type ServerErrorCode = ErrorCode<'ServerError'>;

export class ServerError extends P2fsError<ServerErrorCode> {
  override readonly name = 'ServerError';
}
