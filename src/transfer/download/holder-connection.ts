// One connection to one holder, reused for window after window: ranged DOWNLOADs go out, the next
// asked before the last one's reply is in, and the replies' pieces come back through `readPieces`
// (socket-reads.ts), which stops reading while the consumer is behind: the back-pressure.
// A holder that sends nothing for the stall timeout, or hangs up mid-range, ends the iteration
// with a HolderFailure.
import { randomInt } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { DownloadRequest } from '../../generated/types.js';
import type { Logger } from '../../log/index.js';
import { encodeLine, MAX_RQ } from '../../protocol/index.js';
import { PieceDecoder, type ReceivedPiece } from '../codec/piece-decoder.js';
import type { SlabPool } from '../codec/slabs.js';
import { DownloadError, HolderFailure } from '../errors.js';
import { firstChunkOf } from '../pieces/merkle.js';
import type { Holder } from './holders.js';
import { connectWithReusedReads, readPieces } from './socket-reads.js';

/**
 * Opens a byte stream to a holder. The default dials TCP; a NAT traversal helper passes its own
 * (a socket it punched or relayed). Rejects with HolderFailure CONNECT_FAILED or CONNECT_TIMEOUT.
 */
export type OpenConnection = (holder: Holder, options: ConnectionOptions) => Promise<Socket>;

export interface ConnectionOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * The caller reads the socket only through readPieces (socket-reads.ts): a socket dialled here
   * may then read into one reused buffer. Sockets made otherwise ignore it.
   */
  reusedReadBuffer?: boolean;
}

export const openTcpConnection: OpenConnection = (holder, { timeoutMs, signal, reusedReadBuffer }) =>
  new Promise((resolve, reject) => {
    const target = { host: holder.ip, port: holder.tcpPort, noDelay: true };
    const socket = reusedReadBuffer ? connectWithReusedReads(target) : connect(target);
    const fail = (error: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new HolderFailure('CONNECT_TIMEOUT', `no connection within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => fail(new DownloadError('ABORTED', 'download aborted', ''));
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error) => fail(new HolderFailure('CONNECT_FAILED', `cannot connect: ${error.message}`)));
    socket.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });

/** An openConnection that failed its own way (a NAT helper's, say) failed to connect, as far as the download goes. */
export function asConnectFailure(error: unknown): never {
  if (error instanceof HolderFailure || error instanceof DownloadError) throw error;
  throw new HolderFailure('CONNECT_FAILED', `cannot connect: ${(error as Error).message ?? String(error)}`);
}

export interface HolderConnectionOptions {
  holder: Holder;
  file: string;
  /** The file's chunk count (from the listing). */
  chunks: number;
  stallTimeoutMs: number;
  /** The download's slabs, shared by its holders' decoders. */
  slabs: SlabPool;
  log: Logger;
}

export class HolderConnection {
  private readonly decoder: PieceDecoder;
  private readonly frames: AsyncGenerator<ReceivedPiece>;
  /**
   * Ranges asked for whose pieces receive() has not started handing over. The decoder keeps its own
   * queue: it may be decoding a later range while an earlier one's pieces still wait to be taken.
   */
  private readonly asked: Array<{ first: number; last: number }> = [];
  /** The range receive() hands over (or last handed over). */
  private receiving = { first: 0, last: -1 };

  constructor(
    private readonly socket: Socket,
    private readonly options: HolderConnectionOptions,
  ) {
    this.decoder = new PieceDecoder({ file: options.file, chunks: options.chunks, slabs: options.slabs });
    this.frames = readPieces(socket, this.decoder);
    socket.setTimeout(options.stallTimeoutMs, () => {
      socket.destroy(new HolderFailure('STALLED', `sent nothing for ${options.stallTimeoutMs} ms`));
    });
  }

  /**
   * Asks for pieces first..last (inclusive). Ranges may be asked ahead, before the earlier ones
   * arrived, so the holder never waits a round trip between them; receive() hands them over in the
   * order they were asked.
   */
  ask(first: number, last: number): void {
    const rq = randomInt(0, MAX_RQ + 1);
    const fromChunk = firstChunkOf(first);
    const count = Math.min(this.options.chunks, firstChunkOf(last + 1) - 1) - fromChunk + 1;
    const request: DownloadRequest = { type: 'DOWNLOAD', rq, file: this.options.file, fromChunk, count };
    this.decoder.expect(rq, first, last);
    this.asked.push({ first, last });
    if (this.options.log.enabled('debug')) this.options.log.debug('tcp.send', { holder: this.options.holder.name, message: request });
    this.socket.write(encodeLine(request));
  }

  /** Ranges asked for and not yet being received. */
  get rangesWaiting(): number {
    return this.asked.length;
  }

  /** The first piece of the range being received (or last received): where a failure happened. */
  get receivingFrom(): number {
    return this.receiving.first;
  }

  /** Yields each piece of the oldest range asked for and not yet received, as it arrives. */
  async *receive(): AsyncGenerator<ReceivedPiece> {
    const range = this.asked.shift();
    if (!range) throw new Error('receive() without a range asked for');
    this.receiving = range;
    const { first, last } = range;
    // Counted as yielded, not as decoded: one block from the socket can complete several pieces,
    // and readPieces hands them over one at a time.
    for (let yielded = 0; yielded <= last - first; yielded++) {
      let next: IteratorResult<ReceivedPiece>;
      try {
        next = await this.frames.next();
      } catch (error) {
        if (error instanceof HolderFailure || error instanceof DownloadError) throw error;
        throw new HolderFailure('CLOSED_EARLY', `connection failed during pieces ${first} to ${last}: ${(error as Error).message}`);
      }
      if (next.done) throw new HolderFailure('CLOSED_EARLY', `closed the connection during pieces ${first} to ${last}`);
      yield next.value;
    }
  }

  close(reason?: Error): void {
    this.socket.destroy(reason);
  }
}
