// The errors of the transfer area, each with a stable code. Both classes carry a sentence a person
// can act on; the code is for programs (and tests) to branch on.
//
// DownloadError (thrown by downloadFile):
//   INVALID_OPTIONS      the call itself is wrong (bad file name, no outDir, bad timeout)
//   DESTINATION_EXISTS   <outDir>/<file> exists and `overwrite` is not set
//   PART_IN_USE          another live process is downloading to the same .part file
//   NO_HOLDERS           holders was empty, or every holder publishes a different size or hash
//   ALL_HOLDERS_FAILED   every holder was tried; `attempts` says what went wrong with each
//   ABORTED              the caller's AbortSignal fired
//   IO                   the .part file or destination could not be read, written or renamed
//
// HolderFailure (one per holder tried, listed in DownloadError.attempts):
//   CONNECT_FAILED       the TCP connection was refused or reset before the first frame
//   CONNECT_TIMEOUT      no TCP connection within connectTimeoutMs
//   REFUSED              the holder answered DOWNLOAD-ERROR (its reason is quoted)
//   STALLED              no frame for stallTimeoutMs
//   CLOSED_EARLY         the connection ended before FILE-END
//   BAD_FRAME            a frame broke the schema or the protocol (wrong rq, file, chunk number…)
//   VERIFY_FAILED        the data does not match FILE-END's size or SHA-256: discarded
//   NOT_AS_PUBLISHED     FILE-END's size or hash differs from what the holder (or `expected`) published
//
// UploadError (the file server's refusals, sent as DOWNLOAD-ERROR and reported to onUpload):
//   NOT_SHARED           the catalog does not list the name, or the name is not a plain file name
//   OUTSIDE_SHARE        the catalog's path does not resolve to a file directly inside shareDir
//   NOT_A_FILE           the path is a directory, device, FIFO…
//   UNREADABLE           the file could not be opened or read
//   CHANGED              the file changed while being sent (no longer UTF-8, or shorter than sent)
//   FROM_CHUNK_PAST_END  fromChunk is beyond the file's last chunk
//   BUSY                 maxUploads uploads are already running
//   BAD_REQUEST          the line is not a valid DOWNLOAD (not JSON, unknown type, schema broken, too long)
//   REQUEST_TIMEOUT      no complete DOWNLOAD line within requestTimeoutMs of connecting
//   TOO_MANY_CONNECTIONS maxConnections connections are already open

export type DownloadErrorCode =
  | 'INVALID_OPTIONS'
  | 'DESTINATION_EXISTS'
  | 'PART_IN_USE'
  | 'NO_HOLDERS'
  | 'ALL_HOLDERS_FAILED'
  | 'ABORTED'
  | 'IO';

export type HolderFailureCode =
  | 'CONNECT_FAILED'
  | 'CONNECT_TIMEOUT'
  | 'REFUSED'
  | 'STALLED'
  | 'CLOSED_EARLY'
  | 'BAD_FRAME'
  | 'VERIFY_FAILED'
  | 'NOT_AS_PUBLISHED';

export type UploadErrorCode =
  | 'NOT_SHARED'
  | 'OUTSIDE_SHARE'
  | 'NOT_A_FILE'
  | 'UNREADABLE'
  | 'CHANGED'
  | 'FROM_CHUNK_PAST_END'
  | 'BUSY'
  | 'BAD_REQUEST'
  | 'REQUEST_TIMEOUT'
  | 'TOO_MANY_CONNECTIONS';

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

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    readonly file: string,
    readonly attempts: readonly HolderAttempt[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown inside one holder attempt; downloadFile turns it into a HolderAttempt and moves on. */
export class HolderFailure extends Error {
  override readonly name = 'HolderFailure';
  /** The data on disk cannot be continued (it failed verification, or cannot be resumed): start over. */
  readonly discardPartial: boolean;
  constructor(
    readonly code: HolderFailureCode,
    message: string,
    options: { discardPartial?: boolean } = {},
  ) {
    super(message);
    this.discardPartial = options.discardPartial ?? (code === 'VERIFY_FAILED' || code === 'NOT_AS_PUBLISHED');
  }
}

export class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(
    readonly code: UploadErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
