// The one error type of the peer (share folder, downloads, the Peer's own rules). Errors from the
// index client (IndexClientError) and the transfer (DownloadError) pass through with their own codes.

export type PeerErrorCode =
  | 'NOT_IN_SHARE' // a file named for publishing is not a shareable file of the share folder
  | 'NO_SHARE' // an operation needs a share folder and the peer was started without one
  | 'NO_HOLDER' // nobody (or not the peer asked for) shares the file
  | 'NOT_REGISTERED' // the operation needs a registration first
  | 'BAD_SHARE' // the share folder cannot be used (missing, not a folder, unreadable)
  | 'BAD_ADDRESS' // no local address reaches the index server (no route): --host is needed
  | 'NO_NAME' // no --name given and the peer's database remembers none
  | 'STOPPED'; // the peer was stopped

export class PeerError extends Error {
  override readonly name = 'PeerError';
  constructor(
    readonly code: PeerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
