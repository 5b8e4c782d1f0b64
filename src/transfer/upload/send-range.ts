// Streams a range of whole pieces: for each, a PIECE frame (offset and Merkle proof), then its
// chunks as the same FILE frames a whole-file reply carries (FILE-END for the file's last chunk).
// Reads start at the piece's byte offset, so a range deep in a large file costs no skipping.
import type { FileHandle } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { encodeLine, show } from '../../protocol/index.js';
import { FrameEncoder } from '../codec/frame-encoder.js';
import { UploadError } from '../errors.js';
import { READ_BLOCK_BYTES } from '../limits.js';
import { firstChunkOf, pieceOfChunk } from '../pieces/merkle.js';
import type { FileFacts } from '../pieces/scan-file.js';
import type { SendBuffers } from './send-buffers.js';
import { write } from './socket-writes.js';

export interface SendRangeOptions {
  socket: Socket;
  handle: FileHandle;
  facts: FileFacts;
  rq: number;
  file: string;
  /** First chunk: the first of a piece. */
  fromChunk: number;
  /** Chunks to send: up to the end of a piece, or of the file. */
  count: number;
  /** The file server's send buffers, reused from batch to batch. */
  buffers: SendBuffers;
  /** Called after each block handed to the socket: file bytes up to there, next chunk number. */
  onProgress?: (bytes: number, nextChunk: number) => void;
}

export async function sendRange(options: SendRangeOptions): Promise<void> {
  const { socket, handle, facts, rq, file, buffers } = options;
  const { tree } = facts;
  const first = pieceOfChunk(options.fromChunk);
  const last = pieceOfChunk(options.fromChunk + options.count - 1);
  const encoder = new FrameEncoder({ rq, file, encoding: facts.utf8 ? 'utf8' : 'base64', startChunk: firstChunkOf(first), buffers });
  const pieceFrame = (piece: number) => Buffer.from(encodeLine({ type: 'PIECE', rq, file, piece, offset: tree.offsets[piece]!, proof: tree.proof(piece) }));
  /** Ends `piece`: its last chunk as FILE, or FILE-END when it is the file's last piece. */
  const endOf = (piece: number) => (piece === tree.pieces - 1 ? encoder.end(facts.size, facts.sha256) : encoder.endPiece());
  let piece = first;
  let position = tree.offsets[first]!;
  encoder.line(pieceFrame(piece));
  // The whole range is read in large blocks; each block is cut where pieces end.
  for await (const block of readBlocks(handle, position, tree.offsets[last + 1]!, file)) {
    let at = 0;
    while (at < block.length) {
      const take = Math.min(block.length - at, tree.offsets[piece + 1]! - position);
      const batches = encoder.push(block.subarray(at, at + take));
      at += take;
      position += take;
      if (position < tree.offsets[piece + 1]!) {
        await write(socket, batches, buffers);
        continue;
      }
      batches.push(...endOf(piece));
      if (piece < last) encoder.line(pieceFrame(++piece));
      await write(socket, batches, buffers);
    }
    options.onProgress?.(position, encoder.nextChunk);
  }
  // An empty piece (only an empty file has one) has no bytes to read.
  if (position === tree.offsets[last + 1]! && tree.offsets[last]! === tree.offsets[last + 1]!) await write(socket, endOf(last), buffers);
}

/** The bytes [start, end) of the file in blocks; the next read runs while a block is sent. */
async function* readBlocks(handle: FileHandle, start: number, end: number, file: string): AsyncGenerator<Buffer> {
  const buffers = [Buffer.allocUnsafe(READ_BLOCK_BYTES), Buffer.allocUnsafe(READ_BLOCK_BYTES)];
  let which = 0;
  let position = start;
  const readNext = () => handle.read(buffers[which]!, 0, Math.min(READ_BLOCK_BYTES, end - position), position);
  let reading = position < end ? readNext() : undefined;
  try {
    while (reading) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) throw new UploadError('CHANGED', `file ${show(file)} shrank to ${position} bytes while being sent`);
      position += bytesRead;
      which ^= 1;
      reading = position < end ? readNext() : undefined;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    reading?.catch(() => {});
  }
}
