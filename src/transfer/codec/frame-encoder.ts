// File bytes → FILE … FILE-END frames, straight from the bytes read off disk into large send
// batches: chunks are cut by counting UTF-8 lead bytes and escaped as they are copied, never
// decoded to strings. Both encodings go through the SIMD kernel (../simd/text-kernel.ts), a
// block at a time.
import { show } from '../../protocol/index.js';
import { UploadError } from '../errors.js';
import { BASE64_CHUNK_BYTES, CHUNK_CHARS, MAX_TEXT_CHUNK_BYTES, SEND_BATCH_BYTES } from '../limits.js';
import { TextKernel } from '../simd/text-kernel.js';
import { BASE64_END, canonicalPrefix, TEXT_END, TEXT_OPEN, writeBytes, type ChunkEncoding, type FixedBytes } from './layout.js';
import { Utf8StreamCheck } from './utf8.js';

export interface FrameEncoderOptions {
  rq: number;
  /** The file name exactly as the request gave it (after NFC normalisation). */
  file: string;
  encoding: ChunkEncoding;
  /** First chunk to emit; earlier chunks are counted and skipped (resume). Default 1. */
  fromChunk?: number;
  /**
   * Number of the chunk the first pushed byte starts (default 1): a ranged reply reads from a
   * piece's byte offset instead of skipping every chunk before it.
   */
  startChunk?: number;
  /** Target size of each returned buffer. */
  batchBytes?: number;
  /**
   * Where batches come from: each batch is then a buffer of its own, handed out once (the caller
   * gives it back when the socket is done with it). Without, batches share fresh buffers.
   */
  buffers?: { take(bytes: number): Buffer };
}

/** A FILE frame's text is at most 200 × 6 bytes (every character a \u00xx escape). */
const MAX_ESCAPED_TEXT_BYTES = CHUNK_CHARS * 6;
/** Longest chunk number in decimal (2^53-1). */
const MAX_DECIMAL_DIGITS = 16;
/** The kernel writes a frame's plain bytes 16 at a time: up to 15 past its end. */
const KERNEL_OVERSHOOT_BYTES = 16;

/**
 * One kernel serves every encoder: push() uses its memory only while it runs (synchronously), and
 * sets the frame prefix each time. Its memory: the text to encode, then the frames written.
 */
let kernel: TextKernel | undefined;
const KERNEL_INPUT_BYTES = 256 * 1024;
const KERNEL_OUTPUT_BYTES = 320 * 1024;

/** Stands for "no batch taken yet": ensureRoom finds no room in it and takes one. */
const NO_BATCH = Buffer.alloc(0);

/** Enough bytes to complete any partly collected chunk and see whether one more character follows. */
const LOOKAHEAD_BYTES = MAX_TEXT_CHUNK_BYTES + 1;

/**
 * Turns a file's bytes, pushed block by block in order, into encoded frames. Every chunk but the
 * last travels as FILE (exactly 200 code points, or 150 bytes as base64); the last one (0 to 200)
 * travels as FILE-END, so a chunk is held back until the next byte shows it is not the last.
 */
export class FrameEncoder {
  private readonly framePrefix: FixedBytes;
  private readonly frameSuffix: FixedBytes;
  private readonly maxFrameBytes: number;
  private readonly batchBytes: number;
  private readonly utf8Check: Utf8StreamCheck | undefined;
  private readonly fromChunk: number;
  private batch: Buffer;
  private used = 0;
  private done: Buffer[] = [];
  /** Bytes of the chunk being collected, when a block ended inside it. */
  private carry: Buffer = Buffer.alloc(0);
  private chunk = 1;

  constructor(private readonly options: FrameEncoderOptions) {
    this.framePrefix = canonicalPrefix(options.rq, options.file);
    this.frameSuffix = options.encoding === 'base64' ? BASE64_END : TEXT_END;
    this.maxFrameBytes = this.framePrefix.bytes.length + MAX_DECIMAL_DIGITS + TEXT_OPEN.length + MAX_ESCAPED_TEXT_BYTES + this.frameSuffix.bytes.length;
    this.batchBytes = Math.max(options.batchBytes ?? SEND_BATCH_BYTES, this.maxFrameBytes);
    // With a buffer pool, a batch is taken when the first frame needs one (ensureRoom).
    this.batch = options.buffers ? NO_BATCH : this.newBatch();
    this.utf8Check = options.encoding === 'utf8' ? new Utf8StreamCheck() : undefined;
    this.fromChunk = options.fromChunk ?? 1;
    this.chunk = options.startChunk ?? 1;
  }

  /** Number of the chunk that will be emitted next (or skipped, while below fromChunk). */
  get nextChunk(): number {
    return this.chunk;
  }

  /** Feeds the next block of the file; returns the frames completed so far, in send batches. */
  push(block: Uint8Array): Buffer[] {
    if (this.utf8Check && !this.utf8Check.push(block)) throw this.notUtf8();
    let start = 0;
    if (this.carry.length > 0) {
      // Finish the held-back chunk with the head of this block, then go on in the block itself.
      const joined = Buffer.concat([this.carry, block.subarray(0, LOOKAHEAD_BYTES)]);
      const stop = this.consume(joined, 0, joined.length);
      if (stop < this.carry.length) {
        this.carry = joined.subarray(stop);
        return this.takeBatches();
      }
      start = stop - this.carry.length;
    }
    const stop = this.consume(block, start, block.length);
    this.carry = Buffer.from(block.subarray(stop));
    return this.takeBatches();
  }

  /**
   * Ends the file: the held-back bytes become FILE-END with the whole file's size and SHA-256.
   * Throws UploadError FROM_CHUNK_PAST_END when fromChunk is beyond the last chunk.
   */
  end(size: number, sha256: string): Buffer[] {
    if (this.utf8Check && !this.utf8Check.end()) throw this.notUtf8();
    if (this.fromChunk > this.chunk) {
      throw new UploadError(
        'FROM_CHUNK_PAST_END',
        `fromChunk ${this.fromChunk} is past the last chunk (${this.chunk}) of file ${show(this.options.file)}`,
      );
    }
    const { rq, file, encoding } = this.options;
    const text = this.carry.toString(encoding === 'base64' ? 'base64' : 'utf8');
    const frame = { type: 'FILE-END', rq, file, chunk: this.chunk, text, ...(encoding === 'base64' ? { encoding } : {}), size, sha256 };
    const bytes = Buffer.from(`${JSON.stringify(frame)}\n`);
    this.ensureRoom(bytes.length);
    this.used = writeBytes(this.batch, this.used, bytes);
    this.carry = Buffer.alloc(0);
    return this.takeBatches();
  }

  /**
   * Ends a piece that is not the file's last: the held-back bytes are its last chunk, whole, and
   * travel as FILE (built with JSON.stringify: the same bytes as the fast path's).
   */
  endPiece(): Buffer[] {
    const { rq, file, encoding } = this.options;
    const text = this.carry.toString(encoding === 'base64' ? 'base64' : 'utf8');
    if (text.length === 0 || (encoding === 'base64' ? text.length : [...text].length) !== CHUNK_CHARS) {
      throw new UploadError('CHANGED', `file ${show(file)} changed while being sent: a piece no longer ends on a whole chunk`);
    }
    this.line(Buffer.from(`${JSON.stringify({ type: 'FILE', rq, file, chunk: this.chunk, text, ...(encoding === 'base64' ? { encoding } : {}) })}\n`));
    this.chunk++;
    this.carry = Buffer.alloc(0);
    return this.takeBatches();
  }

  /** Queues one whole line (a PIECE frame) after the frames encoded so far. */
  line(bytes: Buffer): void {
    this.ensureRoom(bytes.length);
    this.used = writeBytes(this.batch, this.used, bytes);
  }

  /** Emits every chunk of bytes[start..end) known not to be the last; returns where it stopped. */
  private consume(bytes: Uint8Array, start: number, end: number): number {
    const binary = this.options.encoding === 'base64';
    let at = start;
    // A resume: the chunks before fromChunk are counted, not sent.
    for (; this.chunk < this.fromChunk; this.chunk++) {
      const next = binary ? (end - at > BASE64_CHUNK_BYTES ? at + BASE64_CHUNK_BYTES : -1) : skipChunk(bytes, at, end);
      if (next === -1) return at;
      at = next;
    }
    kernel ??= new TextKernel();
    kernel.setPrefix(this.framePrefix.bytes);
    const memory = kernel.memory;
    const input = kernel.firstFree;
    const output = input + KERNEL_INPUT_BYTES;
    const frameRoom = this.maxFrameBytes + KERNEL_OVERSHOOT_BYTES;
    // The bytes go into the kernel's memory a slice at a time; a chunk cut by a slice's end
    // starts the next slice.
    for (;;) {
      const sliceEnd = Math.min(end, at + KERNEL_INPUT_BYTES);
      memory.set(bytes.subarray(at, sliceEnd), input);
      let next = input;
      for (;;) {
        this.ensureRoom(frameRoom);
        const room = Math.min(this.batch.length - this.used, KERNEL_OUTPUT_BYTES);
        this.chunk += binary
          ? kernel.encodeBase64Frames(next, input + sliceEnd - at, output, output + room, this.chunk, frameRoom)
          : kernel.encodeTextFrames(next, input + sliceEnd - at, output, output + room, this.chunk, frameRoom);
        next = kernel.next;
        this.used += memory.copy(this.batch, this.used, output, kernel.outEnd);
        // It stopped with room for another frame: the bytes in the slice ran out.
        if (room - (kernel.outEnd - output) >= frameRoom) break;
      }
      const consumed = next - input;
      if (sliceEnd === end || consumed === 0) return at + consumed;
      at += consumed;
    }
  }

  private ensureRoom(bytes: number): void {
    if (this.batch.length - this.used >= bytes) return;
    if (this.used > 0) this.done.push(this.batch.subarray(0, this.used));
    this.batch = bytes > this.batchBytes ? Buffer.allocUnsafe(bytes) : this.newBatch();
    this.used = 0;
  }

  /** Hands over everything encoded so far; the unused tail of the batch keeps serving. */
  private takeBatches(): Buffer[] {
    if (this.used > 0) {
      this.done.push(this.batch.subarray(0, this.used));
      const tailServes = this.options.buffers === undefined && this.batch.length - this.used >= this.maxFrameBytes;
      this.batch = tailServes ? this.batch.subarray(this.used) : this.options.buffers ? NO_BATCH : this.newBatch();
      this.used = 0;
    }
    const batches = this.done;
    this.done = [];
    return batches;
  }

  private newBatch(): Buffer {
    const bytes = this.batchBytes + this.maxFrameBytes;
    return this.options.buffers ? this.options.buffers.take(bytes) : Buffer.allocUnsafe(bytes);
  }

  private notUtf8(): UploadError {
    return new UploadError('CHANGED', `file ${show(this.options.file)} is no longer valid UTF-8: it changed while being sent`);
  }
}

/** Position after the 200 code points at bytes[at..), or -1 when no byte after them is in range. */
function skipChunk(bytes: Uint8Array, at: number, end: number): number {
  let chars = 0;
  for (let i = at; i < end; i++) {
    const byte = bytes[i]!;
    if (byte < 0x80 || byte >= 0xc0) {
      if (chars === CHUNK_CHARS) return i;
      chars++;
    }
  }
  return -1;
}
