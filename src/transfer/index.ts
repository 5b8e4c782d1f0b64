// Peer-to-peer file transfer: the file server a peer runs, the downloader, and their codec.
export { startFileServer } from './file-server.js';
export type { FileServer, FileServerOptions, ShareCatalog, SharedFile, UploadEvent, UploadInfo } from './file-server.js';
export { downloadFile } from './download.js';
export type { DownloadOptions, DownloadProgress, DownloadResult, Holder } from './download.js';
export { partPathsFor } from './download/part-file.js';
export { inspectFile, type FileFacts } from './inspect-file.js';
export { DownloadError, HolderFailure, UploadError } from './errors.js';
export type { DownloadErrorCode, HolderAttempt, HolderFailureCode, UploadErrorCode } from './errors.js';
export type { ChunkEncoding } from './codec/layout.js';
export * from './limits.js';
