// The one error type starting the index server throws: a bad option (the CLI exits with code 2 on
// it), a port it cannot bind, or a store it cannot open. Refusals of requests are replies, not errors.

export type ServerErrorCode =
  | 'BAD_OPTION' // an option or flag out of its range: the message names it and the rule
  | 'BIND_FAILED' // the UDP socket could not bind (port in use, address not local, no permission)
  | 'STORE_FAILED'; // the registry store could not be opened or loaded

export class ServerError extends Error {
  override readonly name = 'ServerError';

  constructor(
    readonly code: ServerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
