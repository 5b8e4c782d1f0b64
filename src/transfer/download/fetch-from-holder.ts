// One attempt at one holder, the course's way (a whole-file DOWNLOAD, fromChunk when resuming):
// a `for await` over the connection's bytes, each block's verified frames written to the .part
// file, until FILE-END. Reading waits while the disk is behind (one write in flight), which is the
// back-pressure. Any failure (refused, stalled, closed, a bad frame) rejects with a HolderFailure
// after the verified data so far is safely on disk, so the next holder can carry on from there.
import { randomInt } from 'node:crypto';
import type { DownloadRequest } from '../../generated/types.js';
import type { Logger } from '../../log/index.js';
import { encodeLine, MAX_RQ } from '../../protocol/index.js';
import { FrameDecoder, type FileEndInfo } from '../codec/frame-decoder.js';
import { DownloadError, HolderFailure } from '../errors.js';
import { PART_FLUSH_BYTES, PART_FLUSH_INTERVAL_MS } from '../limits.js';
import { asConnectFailure, type OpenConnection } from './holder-connection.js';
import { describeHolder, type Holder } from './holders.js';
import type { PartFile } from './part-file.js';

export interface FetchOptions {
  holder: Holder;
  file: string;
  part: PartFile;
  openConnection: OpenConnection;
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  /** Data beyond this many bytes is refused on the spot (what the holder or caller said the size is). */
  maxBytes?: number;
  signal?: AbortSignal;
  log: Logger;
  /** After each write to the .part file. */
  onWritten: () => void;
}

/** Downloads from one holder into `part`; resolves with FILE-END once all its data is written. */
export async function fetchFromHolder(options: FetchOptions): Promise<FileEndInfo> {
  const { holder, file, part, log } = options;
  const rq = randomInt(0, MAX_RQ + 1);
  const fromChunk = part.nextChunk;
  const decoder = new FrameDecoder({ rq, file, fromChunk, ...(part.encoding ? { encoding: part.encoding } : {}) });
  const request: DownloadRequest = { type: 'DOWNLOAD', rq, file, ...(fromChunk > 1 ? { fromChunk } : {}) };
  const socket = await options.openConnection(holder, { timeoutMs: options.connectTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) }).catch(asConnectFailure);
  socket.setTimeout(options.stallTimeoutMs, () => {
    socket.destroy(new HolderFailure('STALLED', `sent no frame for ${options.stallTimeoutMs} ms after chunk ${decoder.nextChunk - 1}`));
  });
  const onAbort = () => socket.destroy(new DownloadError('ABORTED', `download of ${file} aborted`, file));
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let writing: Promise<void> = Promise.resolve();
  let flushTimer: NodeJS.Timeout | undefined;
  /** Queues the data decoded so far for the disk, after the writes before it. */
  const flush = (): Promise<void> => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    const encoding = decoder.encoding;
    const chunks = decoder.nextChunk - 1;
    const data = decoder.pendingBytes > 0 ? decoder.takeOutput() : undefined;
    writing = writing.then(async () => {
      if (!part.encoding && encoding) await part.adoptEncoding(encoding);
      if (!data) return;
      await part.append(data, chunks);
      decoder.reuse(data);
      if (options.maxBytes !== undefined && part.bytes > options.maxBytes) {
        throw new HolderFailure('VERIFY_FAILED', `sent more than the ${options.maxBytes} bytes the file has`);
      }
      options.onWritten();
    });
    return writing;
  };

  try {
    if (log.enabled('debug')) log.debug('tcp.send', { holder: describeHolder(holder), message: request });
    socket.write(encodeLine(request));
    for await (const data of socket) {
      decoder.push(data as Buffer);
      if (decoder.fileEnd) {
        await flush();
        await writing;
        // FILE-END always takes the slow path; more means the holder writes another layout.
        if (decoder.slowFrames > 1) log.debug('download.slow-frames', { holder: describeHolder(holder), frames: decoder.slowFrames });
        return decoder.fileEnd;
      }
      if (decoder.pendingBytes >= PART_FLUSH_BYTES) {
        await writing; // one write in flight at most: past that, reading waits for the disk
        flush().catch((error: unknown) => socket.destroy(error as Error));
      } else if (decoder.pendingBytes > 0) {
        // A holder that sends slowly still gets its data on disk (and resumable) soon.
        flushTimer ??= setTimeout(() => flush().catch((error: unknown) => socket.destroy(error as Error)), PART_FLUSH_INTERVAL_MS);
      }
    }
    throw new HolderFailure('CLOSED_EARLY', `closed the connection after chunk ${decoder.nextChunk - 1}`);
  } catch (error) {
    const failure = error instanceof HolderFailure || error instanceof DownloadError
      ? error
      : new HolderFailure('CLOSED_EARLY', `connection failed after chunk ${decoder.nextChunk - 1}: ${(error as Error).message}`);
    // Frames verified before the failure are good data: put them on disk for the next holder,
    // unless the failure says the data on disk must go anyway.
    clearTimeout(flushTimer);
    const keep = !(failure instanceof HolderFailure && failure.discardPartial);
    try {
      if (keep) await flush();
      await writing;
    } catch (writeError) {
      if (writeError instanceof HolderFailure) throw writeError;
    }
    throw failure;
  } finally {
    clearTimeout(flushTimer);
    options.signal?.removeEventListener('abort', onAbort);
    socket.destroy();
  }
}
