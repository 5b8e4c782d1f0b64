// One attempt at one holder: connect, send DOWNLOAD (fromChunk when resuming), and write each
// verified frame's data to the .part file until FILE-END. Any failure — refused, stalled, closed,
// a bad frame — rejects with a HolderFailure after the verified data so far is safely on disk, so
// the next holder can carry on from there.
import { randomInt } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { DownloadRequest } from '../../generated/types.js';
import type { Logger } from '../../log/index.js';
import { encodeLine } from '../../protocol/index.js';
import { FrameDecoder, type FileEndInfo } from '../codec/frame-decoder.js';
import { MAX_RQ } from '../../protocol/index.js';
import { DownloadError, HolderFailure } from '../errors.js';
import { PART_FLUSH_BYTES, PART_FLUSH_INTERVAL_MS } from '../limits.js';
import type { PartFile } from './part-file.js';

/** A peer that has the file: FileHolder from SEARCH-FILE fits. */
export interface Holder {
  name: string;
  ip: string;
  tcpPort: number;
  /** What the holder published, when it did: its FILE-END must agree. */
  size?: number;
  sha256?: string;
  /** The index server sees it behind a NAT: reach it by callback rather than by connecting. */
  behindNat?: boolean;
}

export interface FetchOptions {
  holder: Holder;
  file: string;
  part: PartFile;
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  /** Data beyond this many bytes is refused on the spot (what the holder or caller said the size is). */
  maxBytes?: number;
  signal?: AbortSignal;
  log: Logger;
  /** After each write to the .part file. */
  onWritten: () => void;
  /**
   * How to reach the holder, when not by connecting to its ip and tcpPort (a connection it opened
   * to us on request, src/reach/): resolves with a connected socket, or rejects with a HolderFailure.
   */
  openConnection?: OpenConnection;
}

/** A connected socket to `holder`, however it was made; rejects with a HolderFailure. */
export type OpenConnection = (holder: Holder, connectTimeoutMs: number, signal?: AbortSignal) => Promise<Socket>;

export const describeHolder = (holder: Holder): string => `${holder.name} (${holder.ip}:${holder.tcpPort})`;

/** Downloads from one holder into `part`; resolves with FILE-END once all its data is written. */
export async function fetchFromHolder(options: FetchOptions): Promise<FileEndInfo> {
  const { holder } = options;
  if (!options.openConnection) return fetchOver(options, connect({ host: holder.ip, port: holder.tcpPort, noDelay: true }), false);
  return fetchOver(options, await options.openConnection(holder, options.connectTimeoutMs, options.signal), true);
}

/** The download on `socket`: connecting (direct) or connected already (opened by someone else). */
function fetchOver(options: FetchOptions, socket: Socket, alreadyConnected: boolean): Promise<FileEndInfo> {
  const { holder, file, part, log } = options;
  const rq = randomInt(0, MAX_RQ + 1);
  const fromChunk = part.nextChunk;
  const decoder = new FrameDecoder({ rq, file, fromChunk, ...(part.encoding ? { encoding: part.encoding } : {}) });
  const request: DownloadRequest = { type: 'DOWNLOAD', rq, file, ...(fromChunk > 1 ? { fromChunk } : {}) };

  return new Promise<FileEndInfo>((resolve, reject) => {
    let settled = false;
    let connected = false;
    let writing: Promise<void> = Promise.resolve();
    let flushTimer: NodeJS.Timeout | undefined;
    let stallTimer: NodeJS.Timeout | undefined;

    const connectTimer = setTimeout(
      () => fail(new HolderFailure('CONNECT_TIMEOUT', `no connection within ${options.connectTimeoutMs} ms`)),
      options.connectTimeoutMs,
    );
    const onAbort = () => fail(new DownloadError('ABORTED', `download of ${file} aborted`, file));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    /**
     * Writes the verified data decoded so far to the .part file. Writes run one at a time; while
     * one is in flight the socket keeps being read into the next buffer, and only when that one is
     * full too does reading pause (the disk is the bottleneck then).
     */
    let writesInFlight = 0;
    const flush = (): Promise<void> => {
      clearTimeout(flushTimer);
      flushTimer = undefined;
      writesInFlight++;
      writing = writing.then(async () => {
        if (!part.encoding && decoder.encoding) await part.adoptEncoding(decoder.encoding);
        if (decoder.pendingBytes === 0) return;
        const chunks = decoder.nextChunk - 1;
        await part.append(decoder.takeOutput(), chunks);
        if (options.maxBytes !== undefined && part.bytes > options.maxBytes) {
          throw new HolderFailure('VERIFY_FAILED', `sent more than the ${options.maxBytes} bytes the file has`);
        }
        options.onWritten();
      });
      writing.then(() => writesInFlight--, () => writesInFlight--);
      return writing;
    };
    const flushInBackground = () => {
      if (writesInFlight === 0) {
        flush().catch(fail);
        return;
      }
      if (socket.isPaused()) return;
      socket.pause();
      writing.then(() => {
        if (settled) return;
        flush().catch(fail);
        stallTimer?.refresh();
        socket.resume();
      }, fail);
    };

    const onConnected = () => {
      connected = true;
      clearTimeout(connectTimer);
      if (log.enabled('debug')) log.debug('tcp.send', { holder: describeHolder(holder), message: request });
      socket.write(encodeLine(request));
      stallTimer = setTimeout(
        () => fail(new HolderFailure('STALLED', `sent no frame for ${options.stallTimeoutMs} ms after chunk ${decoder.nextChunk - 1}`)),
        options.stallTimeoutMs,
      );
    };
    if (alreadyConnected) {
      onConnected();
      socket.resume(); // handed over paused; flows from the next tick, once the listeners below are on
    } else {
      socket.once('connect', onConnected);
    }
    socket.on('data', (data: Buffer) => {
      if (settled) return;
      const before = decoder.nextChunk;
      try {
        decoder.push(data);
      } catch (error) {
        fail(error);
        return;
      }
      if (decoder.nextChunk !== before) stallTimer?.refresh();
      if (decoder.fileEnd) {
        socket.pause();
        flush().then(() => succeed(decoder.fileEnd!), fail);
      } else if (decoder.pendingBytes >= PART_FLUSH_BYTES) {
        flushInBackground();
      } else if (flushTimer === undefined && decoder.pendingBytes > 0) {
        flushTimer = setTimeout(flushInBackground, PART_FLUSH_INTERVAL_MS);
      }
    });
    socket.on('end', () => {
      if (!decoder.fileEnd) fail(new HolderFailure('CLOSED_EARLY', `closed the connection after chunk ${decoder.nextChunk - 1}`));
    });
    socket.on('error', (error) => {
      if (decoder.fileEnd) return; // everything arrived; a reset while closing changes nothing
      if (connected) fail(new HolderFailure('CLOSED_EARLY', `connection failed after chunk ${decoder.nextChunk - 1}: ${error.message}`));
      else fail(new HolderFailure('CONNECT_FAILED', `cannot connect: ${error.message}`));
    });

    function cleanUp(): void {
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(stallTimer);
      clearTimeout(flushTimer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
    }

    function succeed(end: FileEndInfo): void {
      if (settled) return;
      cleanUp();
      // FILE-END always takes the slow path; more means the holder writes another layout.
      if (decoder.slowFrames > 1) log.debug('download.slow-frames', { holder: describeHolder(holder), frames: decoder.slowFrames });
      resolve(end);
    }

    function fail(error: unknown): void {
      if (settled) return;
      cleanUp();
      // Frames verified before the failure are good data: put them on disk for the next holder,
      // unless the failure says the data on disk must go anyway.
      const keep = !(error instanceof HolderFailure && error.discardPartial);
      const saved = keep ? flush() : writing;
      saved.then(
        () => reject(error),
        (writeError: unknown) => reject(writeError instanceof HolderFailure ? writeError : error),
      );
    }
  });
}
