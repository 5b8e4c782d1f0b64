// The one error type of the index client. `code` is stable (scripts and the GUI switch on it);
// `message` is a sentence for people.

export type IndexClientErrorCode =
  | 'TIMEOUT' // the server did not answer after every try
  | 'DENIED' // the server refused the request; `reason` is its sentence
  | 'INVALID' // the request breaks the protocol's rules before it is even sent
  | 'TOO_LARGE' // one item cannot fit in a datagram on its own (e.g. a very long file name)
  | 'PROTOCOL' // the server answered with ERROR: it could not read what we sent
  | 'NOT_REGISTERED' // a mutation asked for before register() gave the client a name
  | 'BIND' // the UDP port could not be bound (in use, not permitted) or the server name did not resolve
  | 'CLOSED'; // the client was closed while the request was waiting

export class IndexClientError extends Error {
  override readonly name = 'IndexClientError';
  constructor(
    readonly code: IndexClientErrorCode,
    message: string,
    /** The request type it concerns, when there is one. */
    readonly requestType?: string,
    /** The server's own reason for a DENIED or PROTOCOL error. */
    readonly reason?: string,
  ) {
    super(message);
  }
}
