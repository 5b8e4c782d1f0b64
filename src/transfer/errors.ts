// The errors of the transfer area, each with a stable code (listed and explained in
// src/errors/codes.ts). Every class carries a sentence a person can act on; the code is for programs
// (and tests) to branch on.
import { P2fsError, type ErrorCode } from '../errors/index.js';

export type DownloadErrorCode = ErrorCode<'DownloadError'>;
export type HolderFailureCode = ErrorCode<'HolderFailure'>;
export type UploadErrorCode = ErrorCode<'UploadError'>;

/** What went wrong with one holder during a download. */
export interface HolderAttempt {
  /** `name (ip:port)` of the holder. */
  holder: string;
  code: HolderFailureCode;
  reason: string;
  /** The chunk the attempt asked for (fromChunk), and how many verified chunks it delivered. */
  fromChunk: number;
  chunksReceived: number;
}

export class DownloadError extends P2fsError<DownloadErrorCode> {
  override readonly name = 'DownloadError';
  constructor(
    code: DownloadErrorCode,
    message: string,
    readonly file: string,
    readonly attempts: readonly HolderAttempt[] = [],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** Thrown inside one holder attempt; downloadFile turns it into a HolderAttempt and moves on. */
export class HolderFailure extends P2fsError<HolderFailureCode> {
  override readonly name = 'HolderFailure';
  /** The data on disk cannot be continued (it failed verification, or cannot be resumed): start over. */
  readonly discardPartial: boolean;
  constructor(
    code: HolderFailureCode,
    message: string,
    options: { discardPartial?: boolean } = {},
  ) {
    super(code, message);
    this.discardPartial = options.discardPartial ?? (code === 'VERIFY_FAILED' || code === 'NOT_AS_PUBLISHED');
  }
}

export class UploadError extends P2fsError<UploadErrorCode> {
  override readonly name = 'UploadError';
}
