// Peer-to-peer file transfer: the file server a peer runs, the downloader, and their codec.
export { startFileServer } from './upload/file-server.js';
export type { FileServer, FileServerOptions, ShareCatalog, SharedFile, UploadEvent, UploadInfo } from './upload/file-server.js';
export { downloadFile } from './download/download-file.js';
export { openTcpConnection } from './download/holder-connection.js';
export type { DownloadOptions, DownloadProgress, DownloadResult, DroppedHolder, ExpectedFile, Holder, OpenConnection } from './download/download-file.js';
export { partPathsFor } from './download/part-file.js';
export { scanFile, type FileFacts } from './pieces/scan-file.js';
export { CHUNKS_PER_PIECE } from './pieces/merkle.js';
export { DownloadError, HolderFailure, UploadError } from './errors.js';
export type { DownloadErrorCode, HolderAttempt, HolderFailureCode, UploadErrorCode } from './errors.js';
export type { ChunkEncoding } from './codec/layout.js';
export * from './limits.js';
