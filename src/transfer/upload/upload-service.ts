// Serving one DOWNLOAD on a connection the guard admitted: the named file, opened under the share
// folder's rules, within the upload cap, as a whole file (the course's reply, then the connection
// closes) or as a range of pieces (PIECE and FILE frames, then the connection waits for the next).
import type { Socket } from 'node:net';
import type { DownloadRequest } from '../../generated/types.js';
import type { Logger } from '../../log/index.js';
import { show } from '../../protocol/index.js';
import type { ChunkEncoding } from '../codec/layout.js';
import { UploadError } from '../errors.js';
import { ENCODING_CACHE_ENTRIES, UPLOAD_PROGRESS_INTERVAL_MS } from '../limits.js';
import { CHUNKS_PER_PIECE } from '../pieces/merkle.js';
import type { FileFacts } from '../pieces/scan-file.js';
import { openSharedFile, type OpenedFile, type ShareCatalog } from './open-shared-file.js';
import { PieceFactsCache } from './piece-facts.js';
import { isUtf8File, sendFile } from './send-file.js';
import { SendBuffers } from './send-buffers.js';
import { sendRange } from './send-range.js';

export interface UploadInfo {
  /** Unique within this server. */
  id: number;
  file: string;
  /** `ip:port` of the downloader. */
  peer: string;
  rq: number;
  fromChunk: number;
  /** Chunks asked for, in a ranged request. */
  count?: number;
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

export interface UploadServiceOptions {
  catalog: ShareCatalog;
  shareDir: string;
  maxUploads: number;
  uploadIdleTimeoutMs: number;
  log: Logger;
  emit: (event: UploadEvent) => void;
  /** Answers DOWNLOAD-ERROR and closes (the guard's refusal). */
  refuse: (socket: Socket, peer: string, rq: number | null, error: UploadError, file?: string) => void;
  /** Sends DOWNLOAD-ERROR for an upload that failed once started. */
  sendError: (socket: Socket, rq: number | null, reason: string) => void;
}

/** What the connection does after a request: close (whole file, or refused) or wait for the next. */
export type AfterRequest = 'close' | 'next';

export class UploadService {
  private readonly running = new Map<number, UploadInfo>();
  private readonly encodings = new Map<string, ChunkEncoding>();
  private readonly pieceFacts = new PieceFactsCache();
  private readonly sendBuffers = new SendBuffers();
  private readonly idleWatched = new WeakSet<Socket>();
  private starting = 0;
  private nextId = 1;

  constructor(private readonly options: UploadServiceOptions) {}

  get active(): number {
    return this.running.size;
  }

  uploads(): UploadInfo[] {
    return [...this.running.values()].map((upload) => ({ ...upload }));
  }

  async serveDownload(request: DownloadRequest, socket: Socket): Promise<AfterRequest> {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const { rq, file } = request;
    const { refuse, log, maxUploads } = this.options;
    if (log.enabled('debug')) log.debug('tcp.recv', { peer, message: request });
    let opened: OpenedFile;
    try {
      opened = await openSharedFile(this.options.catalog, this.options.shareDir, file);
    } catch (error) {
      if (!(error instanceof UploadError)) throw error;
      refuse(socket, peer, rq, error, file);
      return 'close';
    }
    if (this.running.size + this.starting >= maxUploads) {
      await opened.handle.close();
      refuse(socket, peer, rq, new UploadError('BUSY', `busy, try later: this peer is already serving ${maxUploads} downloads`), file);
      return 'close';
    }
    if (socket.destroyed) {
      await opened.handle.close();
      return 'close';
    }
    return request.count === undefined ? this.uploadWhole(socket, peer, request, opened) : this.uploadRange(socket, peer, request, request.count, opened);
  }

  private async uploadWhole(socket: Socket, peer: string, request: DownloadRequest, opened: OpenedFile): Promise<AfterRequest> {
    const { rq, file } = request;
    const fromChunk = request.fromChunk ?? 1;
    await this.track(socket, peer, request, opened, () => this.encodingOf(opened), async (upload, onProgress) => {
      const sent = await sendFile({ socket, handle: opened.handle, size: opened.size, rq, file, encoding: upload.encoding, fromChunk, buffers: this.sendBuffers, onProgress });
      upload.nextChunk = sent.chunks + 1;
      socket.end();
      if (sent.sha256 !== opened.entry.sha256) {
        this.options.log.warn('upload.changed-since-published', { file, published: opened.entry.sha256, sent: sent.sha256 });
      }
    });
    return 'close';
  }

  private async uploadRange(socket: Socket, peer: string, request: DownloadRequest, count: number, opened: OpenedFile): Promise<AfterRequest> {
    const { rq, file } = request;
    const fromChunk = request.fromChunk ?? 1;
    let facts: FileFacts | undefined;
    const ok = await this.track(socket, peer, request, opened, async () => {
      facts = await this.pieceFacts.of(opened);
      checkRange(file, fromChunk, count, facts.chunks);
      return facts.utf8 ? 'utf8' : 'base64';
    }, async (_upload, onProgress) => {
      await sendRange({ socket, handle: opened.handle, facts: facts!, rq, file, fromChunk, count, buffers: this.sendBuffers, onProgress });
    });
    return ok ? 'next' : 'close';
  }

  /**
   * Runs one upload with its bookkeeping: the slot, the idle timeout, events and logs, and the
   * DOWNLOAD-ERROR when it fails. Returns whether it completed.
   */
  private async track(
    socket: Socket,
    peer: string,
    request: DownloadRequest,
    opened: OpenedFile,
    prepare: () => Promise<ChunkEncoding>,
    send: (upload: UploadInfo, onProgress: (bytes: number, nextChunk: number) => void) => Promise<void>,
  ): Promise<boolean> {
    const { rq, file, count } = request;
    const fromChunk = request.fromChunk ?? 1;
    const { log, emit, uploadIdleTimeoutMs } = this.options;
    // Ranged requests come many per download: their life cycle is logged at debug.
    const level = count === undefined ? 'info' : 'debug';
    let info: UploadInfo | undefined;
    this.starting++;
    if (!this.idleWatched.has(socket)) {
      // One listener per connection, however many ranged requests it carries.
      this.idleWatched.add(socket);
      socket.on('timeout', () => socket.destroy(new Error(`the downloader read nothing for ${uploadIdleTimeoutMs} ms`)));
    }
    socket.setTimeout(uploadIdleTimeoutMs);
    try {
      const encoding = await prepare();
      this.starting--;
      info = {
        id: this.nextId++, file, peer, rq, fromChunk, ...(count === undefined ? {} : { count }),
        encoding, size: opened.size, bytes: 0, nextChunk: fromChunk, startedAt: new Date(),
      };
      const upload = info;
      this.running.set(upload.id, upload);
      log[level]('upload.started', { peer, rq, file, fromChunk, count, encoding, size: opened.size });
      emit({ kind: 'started', upload: { ...upload } });
      let lastProgress = Date.now();
      await send(upload, (bytes, nextChunk) => {
        upload.bytes = bytes;
        upload.nextChunk = nextChunk;
        if (Date.now() - lastProgress < UPLOAD_PROGRESS_INTERVAL_MS) return;
        lastProgress = Date.now();
        emit({ kind: 'progress', upload: { ...upload } });
      });
      socket.setTimeout(0);
      log[level]('upload.finished', { peer, rq, file, nextChunk: upload.nextChunk, size: opened.size });
      emit({ kind: 'finished', upload: { ...upload } });
      return true;
    } catch (error) {
      if (info === undefined) this.starting--;
      const failure = error instanceof Error ? error : new Error(String(error));
      log.warn('upload.failed', { peer, rq, file, error: failure.message });
      if (error instanceof UploadError && !socket.destroyed && socket.writable) this.options.sendError(socket, rq, error.message);
      else socket.destroy();
      if (info) emit({ kind: 'failed', upload: { ...info }, error: failure });
      else emit({ kind: 'refused', peer, rq, file, error: error instanceof UploadError ? error : new UploadError('UNREADABLE', failure.message) });
      return false;
    } finally {
      if (info) this.running.delete(info.id);
      await opened.handle.close().catch(() => {});
    }
  }

  /**
   * Text or base64: the catalog's hint, else remembered from an earlier upload of this version,
   * else a pass over the file (isUtf8, block by block). The encoder still checks every byte.
   */
  private async encodingOf(opened: OpenedFile): Promise<ChunkEncoding> {
    if (opened.entry.utf8 !== undefined && opened.entry.size === opened.size) return opened.entry.utf8 ? 'utf8' : 'base64';
    const known = this.encodings.get(opened.version);
    if (known) return known;
    const encoding: ChunkEncoding = (await isUtf8File(opened.handle, opened.size)) ? 'utf8' : 'base64';
    if (this.encodings.size >= ENCODING_CACHE_ENTRIES) this.encodings.delete(this.encodings.keys().next().value!);
    this.encodings.set(opened.version, encoding);
    return encoding;
  }
}

/** A ranged request covers whole pieces of the file: UploadError RANGE_… saying which rule it breaks. */
function checkRange(file: string, fromChunk: number, count: number, chunks: number): void {
  const last = fromChunk + count - 1;
  if (last > chunks) {
    throw new UploadError('RANGE_OUTSIDE_FILE', `range of chunks ${fromChunk} to ${last} is outside file ${show(file)}, which has ${chunks} chunks`);
  }
  if ((fromChunk - 1) % CHUNKS_PER_PIECE !== 0 || (last % CHUNKS_PER_PIECE !== 0 && last !== chunks)) {
    throw new UploadError(
      'RANGE_NOT_PIECE_ALIGNED',
      `range of chunks ${fromChunk} to ${last} of file ${show(file)} must start at a piece's first chunk (256 k + 1) and end at a piece's last chunk (256 k) or at the file's last (${chunks})`,
    );
  }
}
