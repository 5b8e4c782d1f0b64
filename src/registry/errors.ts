// The one error type the registry throws. Every code is a refusal the server turns into the request's
// own refusal reply (REGISTER-DENIED, PUBLISH-DENIED, …) with `reason` as the sentence the client sees.
// A refused mutation has changed nothing, in memory or in the store, except STORE_UNCONFIRMED: the
// store did not confirm a write it may still apply. Codes: src/errors/codes.ts.
import { P2fsError, type ErrorCode } from '../errors/index.js';

export type RegistryErrorCode = ErrorCode<'RegistryError'>;

export class RegistryError extends P2fsError<RegistryErrorCode> {
  override readonly name = 'RegistryError';

  constructor(
    code: RegistryErrorCode,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(code, reason, options);
  }
}
