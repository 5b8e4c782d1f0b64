// The peer's file service: accepts TCP connections, reads one DOWNLOAD line per connection, and
// streams the published file back as FILE … FILE-END frames, or answers DOWNLOAD-ERROR. Defends
// itself against idle and slow clients (a deadline for the request line), over-long and garbage
// lines, too many connections and too many uploads, and keeps serving everyone else.
import { stat } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { DownloadRequest } from '../generated/types.js';
import { silentLogger, type Logger } from '../log/index.js';
import { decodeTcpRequest, encodeLine, LineSplitter, MAX_LINE_BYTES, ProtocolError } from '../protocol/index.js';
import type { ChunkEncoding } from './codec/layout.js';
import { UploadError } from './errors.js';
import {
  DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_UPLOADS, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_UPLOAD_IDLE_TIMEOUT_MS,
  ABUSE_LOG_INTERVAL_MS, ENCODING_CACHE_ENTRIES, ERROR_LINGER_MS, UPLOAD_PROGRESS_INTERVAL_MS,
} from './limits.js';
import { openSharedFile, type OpenedFile, type ShareCatalog } from './server/open-shared-file.js';
import { isUtf8File, sendFile } from './server/send-file.js';

export type { ShareCatalog, SharedFile } from './server/open-shared-file.js';

export interface FileServerOptions {
  /** Interface to listen on; default all interfaces. */
  host?: string;
  /** Default 0: any free port (read it from `address`). */
  port?: number;
  catalog: ShareCatalog;
  /** The share folder: a file is served only if its real path is directly inside it. */
  shareDir: string;
  /** Concurrent uploads; past it a DOWNLOAD gets "busy, try later". Default DEFAULT_MAX_UPLOADS. */
  maxUploads?: number;
  /** Open connections, idle ones included. Default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** Deadline for the whole DOWNLOAD line, from connecting. Default DEFAULT_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
  /** An upload whose downloader reads nothing for this long is dropped. Default DEFAULT_UPLOAD_IDLE_TIMEOUT_MS. */
  uploadIdleTimeoutMs?: number;
  logger?: Logger;
  /** Upload life cycle, for progress displays: started, progress (throttled), finished, failed, refused. */
  onUpload?: (event: UploadEvent) => void;
}

export interface UploadInfo {
  /** Unique within this server. */
  id: number;
  file: string;
  /** `ip:port` of the downloader. */
  peer: string;
  rq: number;
  fromChunk: number;
  encoding: ChunkEncoding;
  /** File size in bytes. */
  size: number;
  /** File bytes read and handed to the socket so far (from the start of the file). */
  bytes: number;
  /** The next chunk to be sent. */
  nextChunk: number;
  startedAt: Date;
}

export type UploadEvent =
  | { kind: 'started' | 'progress' | 'finished'; upload: UploadInfo }
  | { kind: 'failed'; upload: UploadInfo; error: Error }
  | { kind: 'refused'; peer: string; rq: number | null; file?: string; error: UploadError };

export interface FileServer {
  readonly address: { host: string; port: number };
  activeUploads(): number;
  /** Snapshots of the uploads in progress. */
  uploads(): UploadInfo[];
  openConnections(): number;
  /** Stops listening and drops every connection (uploads in progress end without FILE-END). */
  close(): Promise<void>;
}

/** Refusals that hostile or broken clients cause in bulk: logged as counts, not one by one. */
const ABUSE: ReadonlySet<string> = new Set(['BAD_REQUEST', 'REQUEST_TIMEOUT', 'TOO_MANY_CONNECTIONS']);

/** The longest reason the schema allows in DOWNLOAD-ERROR. */
const MAX_REASON_CHARS = 600;

export async function startFileServer(options: FileServerOptions): Promise<FileServer> {
  const maxUploads = options.maxUploads ?? DEFAULT_MAX_UPLOADS;
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const uploadIdleTimeoutMs = options.uploadIdleTimeoutMs ?? DEFAULT_UPLOAD_IDLE_TIMEOUT_MS;
  for (const [name, value] of Object.entries({ maxUploads, maxConnections, requestTimeoutMs, uploadIdleTimeoutMs })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (!(await stat(options.shareDir).catch(() => undefined))?.isDirectory()) {
    throw new Error(`shareDir ${options.shareDir} is not a folder this peer can read`);
  }
  const log = (options.logger ?? silentLogger).child({ component: 'file-server' });
  const emit = options.onUpload ?? (() => {});
  const sockets = new Set<Socket>();
  const uploads = new Map<number, UploadInfo>();
  const encodings = new Map<string, ChunkEncoding>();
  const abuse = new Map<string, number>();
  let abuseReport: NodeJS.Timeout | undefined;
  let uploadsStarting = 0;
  let nextUploadId = 1;

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, acceptConnection);

  function acceptConnection(socket: Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', (error) => log.debug('connection.error', { peer, error: error.message }));
    if (sockets.size > maxConnections) {
      refuse(socket, peer, null, new UploadError('TOO_MANY_CONNECTIONS', `this peer has too many connections open (${maxConnections}), try later`));
      return;
    }
    const splitter = new LineSplitter(MAX_LINE_BYTES);
    const stopReading = () => {
      clearTimeout(deadline);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
    };
    const deadline = setTimeout(() => {
      stopReading();
      refuse(socket, peer, null, new UploadError('REQUEST_TIMEOUT', `no complete DOWNLOAD line within ${requestTimeoutMs} ms of connecting`));
    }, requestTimeoutMs);
    socket.once('close', () => clearTimeout(deadline));
    const onData = (chunk: Buffer) => {
      let lines: Buffer[];
      try {
        lines = splitter.push(chunk);
      } catch (error) {
        stopReading();
        refuse(socket, peer, null, new UploadError('BAD_REQUEST', (error as ProtocolError).reason));
        return;
      }
      if (lines.length === 0) return;
      stopReading();
      handleRequest(socket, peer, lines[0]!).catch((error: unknown) => {
        log.error('upload.crashed', { peer, error });
        socket.destroy();
      });
    };
    const onEnd = () => {
      stopReading();
      refuse(socket, peer, null, new UploadError('BAD_REQUEST', 'the connection ended before a complete DOWNLOAD line (a request ends with a newline)'));
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
  }

  async function handleRequest(socket: Socket, peer: string, line: Buffer): Promise<void> {
    let request: DownloadRequest;
    try {
      request = decodeTcpRequest(line);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      refuse(socket, peer, error.rq, new UploadError('BAD_REQUEST', error.reason));
      return;
    }
    if (log.enabled('debug')) log.debug('tcp.recv', { peer, message: request });
    const { rq, file } = request;
    let opened: OpenedFile;
    try {
      opened = await openSharedFile(options.catalog, options.shareDir, file);
    } catch (error) {
      if (!(error instanceof UploadError)) throw error;
      refuse(socket, peer, rq, error, file);
      return;
    }
    if (uploads.size + uploadsStarting >= maxUploads) {
      await opened.handle.close();
      refuse(socket, peer, rq, new UploadError('BUSY', `busy, try later: this peer is already serving ${maxUploads} downloads`), file);
      return;
    }
    if (socket.destroyed) {
      await opened.handle.close();
      return;
    }
    await upload(socket, peer, request, opened);
  }

  async function upload(socket: Socket, peer: string, request: DownloadRequest, opened: OpenedFile): Promise<void> {
    const { rq, file } = request;
    const fromChunk = request.fromChunk ?? 1;
    let info: UploadInfo | undefined;
    uploadsStarting++;
    socket.setTimeout(uploadIdleTimeoutMs, () => socket.destroy(new Error(`the downloader read nothing for ${uploadIdleTimeoutMs} ms`)));
    try {
      const encoding = await encodingOf(opened);
      uploadsStarting--;
      info = { id: nextUploadId++, file, peer, rq, fromChunk, encoding, size: opened.size, bytes: 0, nextChunk: fromChunk, startedAt: new Date() };
      const upload = info;
      uploads.set(upload.id, upload);
      log.info('upload.started', { peer, rq, file, fromChunk, encoding, size: opened.size });
      emit({ kind: 'started', upload: { ...upload } });
      let lastProgress = Date.now();
      const sent = await sendFile({
        socket, handle: opened.handle, size: opened.size, rq, file, encoding, fromChunk,
        onProgress: (bytes, nextChunk) => {
          upload.bytes = bytes;
          upload.nextChunk = nextChunk;
          if (Date.now() - lastProgress < UPLOAD_PROGRESS_INTERVAL_MS) return;
          lastProgress = Date.now();
          emit({ kind: 'progress', upload: { ...upload } });
        },
      });
      upload.nextChunk = sent.chunks + 1;
      socket.setTimeout(0);
      socket.end();
      if (sent.sha256 !== opened.entry.sha256) {
        log.warn('upload.changed-since-published', { file, published: opened.entry.sha256, sent: sent.sha256 });
      }
      log.info('upload.finished', { peer, rq, file, chunks: sent.chunks, size: opened.size });
      emit({ kind: 'finished', upload: { ...upload } });
    } catch (error) {
      if (info === undefined) uploadsStarting--;
      const failure = error instanceof Error ? error : new Error(String(error));
      log.warn('upload.failed', { peer, rq, file, error: failure.message });
      if (error instanceof UploadError && !socket.destroyed && socket.writable) {
        sendError(socket, rq, error.message);
      } else {
        socket.destroy();
      }
      if (info) emit({ kind: 'failed', upload: { ...info }, error: failure });
      else emit({ kind: 'refused', peer, rq, file, error: error instanceof UploadError ? error : new UploadError('UNREADABLE', failure.message) });
    } finally {
      if (info) uploads.delete(info.id);
      await opened.handle.close().catch(() => {});
    }
  }

  /**
   * Text or base64: the catalog's hint, else remembered from an earlier upload of this version,
   * else a pass over the file (isUtf8, block by block). The encoder still checks every byte.
   */
  async function encodingOf(opened: OpenedFile): Promise<ChunkEncoding> {
    if (opened.entry.utf8 !== undefined && opened.entry.size === opened.size) return opened.entry.utf8 ? 'utf8' : 'base64';
    const known = encodings.get(opened.version);
    if (known) return known;
    const encoding: ChunkEncoding = (await isUtf8File(opened.handle, opened.size)) ? 'utf8' : 'base64';
    if (encodings.size >= ENCODING_CACHE_ENTRIES) encodings.delete(encodings.keys().next().value!);
    encodings.set(opened.version, encoding);
    return encoding;
  }

  function refuse(socket: Socket, peer: string, rq: number | null, error: UploadError, file?: string): void {
    const fields = { peer, rq, file, code: error.code, reason: error.message, ...(error.cause ? { detail: String(error.cause) } : {}) };
    if (ABUSE.has(error.code)) {
      // A flood of these must not flood the log: each at debug, a count at warn once per interval.
      log.debug('download.refused', fields);
      abuse.set(error.code, (abuse.get(error.code) ?? 0) + 1);
      abuseReport ??= setTimeout(reportAbuse, ABUSE_LOG_INTERVAL_MS).unref();
    } else {
      log.info('download.refused', fields);
    }
    emit({ kind: 'refused', peer, rq, ...(file === undefined ? {} : { file }), error });
    if (!socket.destroyed) sendError(socket, rq, error.message);
  }

  function reportAbuse(): void {
    clearTimeout(abuseReport);
    abuseReport = undefined;
    if (abuse.size === 0) return;
    log.warn('download.refusals', { intervalMs: ABUSE_LOG_INTERVAL_MS, ...Object.fromEntries(abuse) });
    abuse.clear();
  }

  /**
   * Answers DOWNLOAD-ERROR and closes. Reading goes on (discarded) for a moment, so a client still
   * sending gets the error line instead of a reset that would throw it away.
   */
  function sendError(socket: Socket, rq: number | null, reason: string): void {
    const clipped = [...reason].length > MAX_REASON_CHARS ? `${[...reason].slice(0, MAX_REASON_CHARS - 1).join('')}…` : reason;
    const message = { type: 'DOWNLOAD-ERROR' as const, rq, reason: clipped };
    if (log.enabled('debug')) log.debug('tcp.send', { peer: `${socket.remoteAddress}:${socket.remotePort}`, message });
    socket.setTimeout(0);
    socket.end(encodeLine(message));
    socket.on('data', () => {});
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), ERROR_LINGER_MS);
    socket.once('close', () => clearTimeout(linger));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error('server.error', { error }));
  const bound = server.address() as AddressInfo;
  log.info('listening', { host: bound.address, port: bound.port, shareDir: options.shareDir, maxUploads, maxConnections });

  return {
    address: { host: bound.address, port: bound.port },
    activeUploads: () => uploads.size,
    uploads: () => [...uploads.values()].map((upload) => ({ ...upload })),
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        reportAbuse();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
