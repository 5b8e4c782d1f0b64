// The one error type of the web UI's API, and how every other error of the peer becomes one. The
// page shows `message` next to the action that failed; `code` is stable for scripts and tests.
import { IndexClientError } from '../client/index.js';
import { P2fsError, type ErrorCode } from '../errors/index.js';
import { PeerError } from '../peer/errors.js';
import { DownloadError } from '../transfer/index.js';
import { plainWords } from './plain-words.js';

export type UiErrorCode = ErrorCode<'UiError'>;
// The peer's own codes pass through unchanged: IndexClientError (DENIED, TIMEOUT, …), PeerError
// (NOT_REGISTERED, NO_HOLDER, NOT_IN_SHARE, …) and DownloadError (ALL_HOLDERS_FAILED, …).
export type ApiErrorCode = UiErrorCode | IndexClientError['code'] | PeerError['code'] | DownloadError['code'];

/** An API error: sent as `{error: {code, message, ...details}}` with `status`. */
export class UiError extends P2fsError<ApiErrorCode> {
  override readonly name = 'UiError';
  constructor(
    readonly status: number,
    code: ApiErrorCode,
    message: string,
    /** Extra fields for the JSON error: the field at fault, the server's reason, the request type. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(code, message);
  }
}

export const badRequest = (field: string, message: string) => new UiError(400, 'BAD_REQUEST', message, { field });

/** HTTP status for each peer-side error code; the code itself is passed through. */
const INDEX_STATUS: Record<IndexClientError['code'], number> = {
  DENIED: 409, // the index server refused: its reason is the message
  TIMEOUT: 504,
  INVALID: 400,
  TOO_LARGE: 400,
  PROTOCOL: 502,
  NOT_REGISTERED: 409,
  BIND: 500,
  CLOSED: 503,
};
const PEER_STATUS: Record<PeerError['code'], number> = {
  NOT_IN_SHARE: 404,
  NO_SHARE: 409,
  NO_HOLDER: 404,
  NOT_REGISTERED: 409,
  BAD_SHARE: 500,
  BAD_ADDRESS: 500,
  NO_NAME: 500,
  STOPPED: 503,
};
const DOWNLOAD_STATUS: Record<DownloadError['code'], number> = {
  INVALID_OPTIONS: 400,
  DESTINATION_EXISTS: 409,
  PART_IN_USE: 409,
  NO_HOLDERS: 404,
  ALL_HOLDERS_FAILED: 502,
  ABORTED: 499,
  IO: 500,
};

/**
 * Any error thrown by a handler, as an API error: `message` in plain words (plain-words.ts), the
 * detailed message as `detail`. Unknown errors keep their message out of the reply.
 */
export function toUiError(error: unknown): UiError {
  if (error instanceof UiError) return error;
  if (error instanceof IndexClientError) {
    // A refusal's message is the server's own sentence: that is what a person needs to read.
    return new UiError(INDEX_STATUS[error.code], error.code, plainWords({ code: error.code, message: error.message, reason: error.reason }), {
      ...(error.requestType ? { request: error.requestType } : {}),
      ...(error.reason ? { reason: error.reason } : {}),
      ...(error.code === 'DENIED' ? {} : { detail: error.message }),
    });
  }
  if (error instanceof PeerError) {
    const message = error.code === 'NO_HOLDER' ? error.message : plainWords({ code: error.code, message: error.message });
    return new UiError(PEER_STATUS[error.code], error.code, message, message === error.message ? {} : { detail: error.message });
  }
  if (error instanceof DownloadError) {
    return new UiError(DOWNLOAD_STATUS[error.code], error.code, plainWords({ code: error.code, message: error.message, file: error.file, attempts: error.attempts }), {
      detail: error.message,
      attempts: error.attempts.map(({ holder, code, reason }) => ({ holder, code, reason })),
    });
  }
  return new UiError(500, 'INTERNAL', 'the peer failed to handle this request; its log says why');
}
