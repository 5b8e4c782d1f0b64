// Streams one opened file to a downloader as frames: reads the disk in blocks (the next read runs
// while the current block is encoded and sent), hashes every byte, and waits for the socket to
// drain before encoding more, so memory stays at a few blocks whatever the file size.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { show } from '../../protocol/index.js';
import { FrameEncoder } from '../codec/frame-encoder.js';
import type { ChunkEncoding } from '../codec/layout.js';
import { Utf8StreamCheck } from '../codec/utf8.js';
import { UploadError } from '../errors.js';
import { READ_BLOCK_BYTES, SCAN_BLOCK_BYTES } from '../limits.js';
import type { SendBuffers } from './send-buffers.js';
import { write } from './socket-writes.js';

export interface SendFileOptions {
  socket: Socket;
  handle: FileHandle;
  /** Bytes to send: the size when the file was opened. */
  size: number;
  rq: number;
  file: string;
  encoding: ChunkEncoding;
  fromChunk: number;
  /** The file server's send buffers, reused from batch to batch. */
  buffers: SendBuffers;
  /** Called after each block handed to the socket: file bytes read so far, next chunk number. */
  onProgress?: (bytes: number, nextChunk: number) => void;
}

export interface SentFile {
  sha256: string;
  /** The FILE-END chunk number (the file's chunk count). */
  chunks: number;
}

/** Sends FILE frames from fromChunk on, then FILE-END. Rejects if the socket closes first. */
export async function sendFile(options: SendFileOptions): Promise<SentFile> {
  const { socket, handle, size, file, buffers } = options;
  const encoder = new FrameEncoder({ rq: options.rq, file, encoding: options.encoding, fromChunk: options.fromChunk, buffers });
  const hash = createHash('sha256');
  const readBuffers = [Buffer.allocUnsafe(READ_BLOCK_BYTES), Buffer.allocUnsafe(READ_BLOCK_BYTES)];
  let which = 0;
  let position = 0;
  const readNext = () => handle.read(readBuffers[which]!, 0, Math.min(READ_BLOCK_BYTES, size - position), position);
  let reading = position < size ? readNext() : undefined;
  try {
    while (reading) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) {
        throw new UploadError('CHANGED', `file ${show(file)} shrank to ${position} bytes while being sent (it had ${size})`);
      }
      position += bytesRead;
      which ^= 1;
      reading = position < size ? readNext() : undefined;
      const block = buffer.subarray(0, bytesRead);
      hash.update(block);
      await write(socket, encoder.push(block), buffers);
      options.onProgress?.(position, encoder.nextChunk);
    }
  } finally {
    // A read still in flight when sending failed must not surface as an unhandled rejection.
    reading?.catch(() => {});
  }
  const sha256 = hash.digest('hex');
  const chunks = encoder.nextChunk;
  await write(socket, encoder.end(size, sha256), buffers);
  return { sha256, chunks };
}

/** Whether a file is valid UTF-8 throughout (then it travels as text), read block by block. */
export async function isUtf8File(handle: FileHandle, size: number): Promise<boolean> {
  const check = new Utf8StreamCheck();
  const buffer = Buffer.allocUnsafe(SCAN_BLOCK_BYTES);
  for (let position = 0; position < size; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(SCAN_BLOCK_BYTES, size - position), position);
    if (bytesRead === 0) break;
    if (!check.push(buffer.subarray(0, bytesRead))) return false;
    position += bytesRead;
  }
  return check.end();
}
