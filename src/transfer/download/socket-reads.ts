// How a holder's bytes reach the piece decoder. A socket openTcpConnection dials for a swarm
// (`reusedReadBuffer`) reads into one buffer of its own, used again for every read (Node's
// `onread`): the stream machinery's fresh 64 KB buffer per read, and its hand-over through a
// `for await`, cost the receiving main thread about 0.06 s of CPU per 100 MB on this machine
// (0.005 s with `onread`), and the receiving main thread is what bounds a download by pieces. A
// socket made elsewhere (a NAT helper's, punched or relayed) cannot be given `onread` after the
// fact, so it is read with a `for await`.
//
// Either way the consumer iterates pieces, and reading waits while it is behind: the stream pauses
// itself; a reused buffer's reads stop (the callback returns false) while MAX_PIECES_UNTAKEN
// pieces wait, and start again once half of them were taken.
import { connect, type NetConnectOpts, type Socket } from 'node:net';
import type { PieceDecoder, ReceivedPiece } from '../codec/piece-decoder.js';
import { MAX_PIECES_UNTAKEN, SOCKET_READ_BYTES } from '../limits.js';

/** Where the reads of a socket with a reused buffer go, until readPieces takes them. */
interface ReusedReads {
  /** Takes a block before the next read overwrites it; false stops reading. */
  take: ((block: Buffer) => boolean) | undefined;
  /** Copies of blocks that arrived while nobody took them (reading stops at MAX_EARLY_BLOCKS). */
  early: Buffer[];
}

/** Blocks kept while nobody reads the socket's pieces (before readPieces, or after it ended). */
const MAX_EARLY_BLOCKS = 4;

const reusedReads = new WeakMap<Socket, ReusedReads>();

/** Dials TCP with a read buffer of its own, reused for every read. */
export function connectWithReusedReads(options: NetConnectOpts & { host: string; port: number }): Socket {
  const reads: ReusedReads = { take: undefined, early: [] };
  const socket = connect({
    ...options,
    onread: {
      buffer: Buffer.allocUnsafe(SOCKET_READ_BYTES),
      callback: (bytes: number, buffer: Uint8Array) => {
        const block = Buffer.from(buffer.buffer, buffer.byteOffset, bytes);
        if (reads.take) return reads.take(block);
        reads.early.push(Buffer.from(block));
        return reads.early.length < MAX_EARLY_BLOCKS;
      },
    },
  });
  reusedReads.set(socket, reads);
  return socket;
}

/** Every piece the socket's bytes complete, as they complete; ends when the holder hangs up. */
export function readPieces(socket: Socket, decoder: PieceDecoder): AsyncGenerator<ReceivedPiece> {
  const reads = reusedReads.get(socket);
  return reads ? readReused(socket, reads, decoder) : readStream(socket, decoder);
}

async function* readStream(socket: Socket, decoder: PieceDecoder): AsyncGenerator<ReceivedPiece> {
  for await (const data of socket) yield* decoder.push(data as Buffer);
}

async function* readReused(socket: Socket, reads: ReusedReads, decoder: PieceDecoder): AsyncGenerator<ReceivedPiece> {
  const ready: ReceivedPiece[] = [];
  let failure: unknown;
  let closed = false;
  let stopped = false;
  let wake: (() => void) | undefined;
  const take = (block: Buffer): boolean => {
    if (failure === undefined) {
      try {
        for (const piece of decoder.push(block)) ready.push(piece);
      } catch (error) {
        failure = error;
        socket.destroy();
      }
    }
    wake?.();
    stopped = ready.length >= MAX_PIECES_UNTAKEN;
    return !stopped;
  };
  const onError = (error: Error) => {
    failure ??= error;
    wake?.();
  };
  const onClose = () => {
    closed = true;
    wake?.();
  };
  socket.on('error', onError);
  socket.on('close', onClose);
  reads.take = take;
  for (const block of reads.early.splice(0)) take(block);
  if (!stopped) socket.resume(); // reads may have stopped with early blocks waiting
  try {
    for (;;) {
      const piece = ready.shift();
      if (piece) {
        if (stopped && ready.length <= MAX_PIECES_UNTAKEN / 2) {
          stopped = false;
          socket.resume();
        }
        yield piece;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (closed) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    reads.take = undefined;
    socket.off('error', onError);
    socket.off('close', onClose);
  }
}
