// The one error type of the peer (share folder, downloads, the Peer's own rules). Errors from the
// index client (IndexClientError) and the transfer (DownloadError) pass through with their own codes.
// Codes: src/errors/codes.ts.
import { P2fsError, type ErrorCode } from '../errors/index.js';

export type PeerErrorCode = ErrorCode<'PeerError'>;

export class PeerError extends P2fsError<PeerErrorCode> {
  override readonly name = 'PeerError';
}
