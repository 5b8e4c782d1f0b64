// The one error type the registry throws. Every code is a refusal the server turns into the request's
// own refusal reply (REGISTER-DENIED, PUBLISH-DENIED, …) with `reason` as the sentence the client sees.
// A refused mutation has changed nothing, in memory or in the store.

export type RegistryErrorCode =
  | 'NOT_REGISTERED' // the name (or the asking client) has no registration: "register first"
  | 'NAME_TAKEN' // REGISTER for a name another client holds
  | 'NOT_AUTHORISED' // a mutation without the name's token and not from its registered address
  | 'BAD_ADDRESS' // an address no peer can be reached at (0.0.0.0, ::)
  | 'BAD_FILE' // a file entry the registry cannot serve back (too large for a reply, not valid Unicode)
  | 'TOO_MANY_FILES' // the per-peer cap on shared files
  | 'STORE_UNAVAILABLE'; // the durable store failed: nothing was changed, the client may retry

export class RegistryError extends Error {
  override readonly name = 'RegistryError';

  constructor(
    readonly code: RegistryErrorCode,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}
