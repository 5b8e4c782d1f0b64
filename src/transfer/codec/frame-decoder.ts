// The downloader's side of the codec: a TCP byte stream → verified file bytes. Splits lines (with
// the protocol's line-length ceiling) in the memory of a SIMD text kernel (kernel-blocks.ts),
// decodes runs of FILE frames (text or base64) there with the kernel and other lines one by one
// (fast path, else the protocol edge), and holds the holder to the transfer rules: the rq and file
// it asked for, chunks numbered on from fromChunk without gaps, one encoding throughout, UTF-8 in
// every frame of text.
import { isUtf8 } from 'node:buffer';
import type { PieceFrame } from '../../generated/types.js';
import { MAX_LINE_BYTES, show } from '../../protocol/index.js';
import { HolderFailure } from '../errors.js';
import { PART_FLUSH_BYTES } from '../limits.js';
import { SOCKET_READ_BYTES } from '../limits.js';
import { FrameRejected, parseCanonicalFile, parseFrameSlow, type DataFrame, type FastFrameFields } from './frame-parser.js';
import { FRAME_ROOM, KernelBlocks, type LineSink } from './kernel-blocks.js';
import { canonicalPrefix, NEWLINE, type FixedBytes, type ChunkEncoding } from './layout.js';

export interface FrameDecoderOptions {
  rq: number;
  /** The file name the request carried (NFC). */
  file: string;
  /** The chunk the request asked for (1 for a fresh download). */
  fromChunk: number;
  /** The encoding of the data already on disk when resuming; a fresh download takes the holder's. */
  encoding?: ChunkEncoding;
}

/** What FILE-END said about the whole file. */
export interface FileEndInfo {
  size: number;
  sha256: string;
  /** Number of the FILE-END chunk (the file's chunk count). */
  chunk: number;
}

/**
 * Room for what the lines of one block decode to in the kernel's memory (never more bytes than the
 * block), and for one more line; what is decoded moves on to `out` before it runs short.
 */
const WORK_BYTES = SOCKET_READ_BYTES + FRAME_ROOM;
/** What is decoded waits for the disk in buffers of this size (one is written while one fills). */
const OUTPUT_BYTES = PART_FLUSH_BYTES + WORK_BYTES;
const MAX_SPARE_OUTPUTS = 2;

export class FrameDecoder implements LineSink {
  /** `{"type":"FILE","rq":R,"file":F,"chunk":` — how each of the holder's FILE frames starts. */
  private readonly filePrefix: FixedBytes;
  private readonly fastFields: FastFrameFields = { chunk: 0, encoding: 'utf8', lineEnd: 0, utf8Unchecked: false };
  private readonly blocks = new KernelBlocks(WORK_BYTES);
  private readonly kernel = this.blocks.kernel;
  /** Where lines are decoded, in the kernel's memory, up to `used`. */
  private readonly work = this.blocks.work;
  private readonly workView = this.blocks.workView;
  private used = 0;
  /** What was decoded, waiting for takeOutput(), up to `outUsed`. */
  private out: Buffer;
  private outUsed = 0;
  /** Output buffers given back (reuse()) once written: fresh ones cost page faults and collections. */
  private readonly spare: Buffer[] = [];
  private expectedChunk: number;
  private encodingSeen: ChunkEncoding | undefined;
  private endInfo: FileEndInfo | undefined;
  /** Frames that took the slow path: just FILE-END for a peer that writes the canonical layout. */
  slowFrames = 0;

  constructor(private readonly options: FrameDecoderOptions) {
    this.filePrefix = canonicalPrefix(options.rq, options.file);
    this.expectedChunk = options.fromChunk;
    this.encodingSeen = options.encoding;
    this.out = this.freshOutput();
    this.kernel.setPrefix(this.filePrefix.bytes);
  }

  /** The encoding the holder uses, once its first frame arrived (or as resumed). */
  get encoding(): ChunkEncoding | undefined {
    return this.encodingSeen;
  }

  /** The next chunk number expected; chunks below it are decoded. */
  get nextChunk(): number {
    return this.expectedChunk;
  }

  /** Set once FILE-END arrived; no more frames are read after it. */
  get fileEnd(): FileEndInfo | undefined {
    return this.endInfo;
  }

  /** Decoded bytes waiting for takeOutput(). */
  get pendingBytes(): number {
    return this.outUsed;
  }

  /**
   * Feeds bytes from the socket. Throws HolderFailure (BAD_FRAME or REFUSED) at the first frame
   * that breaks the rules; bytes after FILE-END are ignored.
   */
  push(data: Buffer): void {
    try {
      this.blocks.feed(data, this);
    } finally {
      this.moveOut();
    }
  }

  /**
   * Hands over the decoded bytes so far (the caller writes them to disk, then may give them back
   * with reuse()).
   */
  takeOutput(): Buffer {
    const taken = this.out.subarray(0, this.outUsed);
    this.out = this.freshOutput();
    this.outUsed = 0;
    return taken;
  }

  /** Takes back what takeOutput() handed over, once nothing reads it any more, to decode into again. */
  reuse(taken: Buffer): void {
    if (this.spare.length < MAX_SPARE_OUTPUTS && taken.byteOffset === 0 && taken.buffer.byteLength === OUTPUT_BYTES) {
      this.spare.push(Buffer.from(taken.buffer, 0, OUTPUT_BYTES));
    }
  }

  private freshOutput(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(OUTPUT_BYTES);
  }

  wantsLine(): boolean {
    return this.endInfo === undefined;
  }

  lineTooLong(): Error {
    return new HolderFailure('BAD_FRAME', `after chunk ${this.expectedChunk - 1}: a line is over the ${MAX_LINE_BYTES}-byte limit without a newline`);
  }

  /** Moves what was decoded in the kernel's memory on to `out`. */
  private moveOut(): void {
    if (this.out.length - this.outUsed < this.used) {
      const bigger = Buffer.allocUnsafe(this.outUsed + this.used + PART_FLUSH_BYTES);
      this.out.copy(bigger, 0, 0, this.outUsed);
      this.out = bigger;
    }
    this.outUsed += this.work.copy(this.out, this.outUsed, 0, this.used);
    this.used = 0;
  }

  /** Room for `bytes` more in the kernel's memory. */
  private roomFor(bytes: number): void {
    if (WORK_BYTES - this.used < bytes) this.moveOut();
  }

  /**
   * Lets the kernel decode the run of FILE frames at input[start..limit) that come next;
   * returns where the first line it left starts. Each frame it takes is one decodeLine would take
   * the same way.
   */
  decodeRun(start: number, limit: number): number {
    this.roomFor(limit - start + FRAME_ROOM);
    const input = this.blocks.input.byteOffset;
    const work = this.work.byteOffset;
    const frames = this.kernel.parseFrames(this.encodingSeen, input + start, input + limit, work + this.used, this.expectedChunk, Number.MAX_SAFE_INTEGER);
    if (frames === 0) return start;
    const end = this.kernel.outEnd - work;
    // Not valid UTF-8: left to decodeLine frame by frame, whose error names the chunk. (The next
    // line's run then fails again, at most a block's frames over again, once per download.)
    if (this.kernel.sawHighBytes && !isUtf8(this.work.subarray(this.used, end))) return start;
    this.used = end;
    this.expectedChunk += frames;
    this.encodingSeen = this.kernel.runEncoding;
    return this.kernel.next - input;
  }

  /**
   * Decodes the line at line[start..], which ends with a newline before `limit` or is not complete
   * yet. Returns where the next line starts, or -1 when the line is not complete.
   */
  decodeLine(line: Buffer, lineView: DataView, start: number, limit: number): number {
    this.roomFor(FRAME_ROOM);
    const dataEnd = parseCanonicalFile(line, lineView, start, limit, this.filePrefix, this.work, this.workView, this.used, this.fastFields, this.kernel);
    // UTF-8 is checked frame by frame here: a frame that is not goes on to the slow path, which
    // names its chunk in the error.
    if (dataEnd >= 0 && (!this.fastFields.utf8Unchecked || isUtf8(this.work.subarray(this.used, dataEnd)))) {
      this.checkSequence('FILE', this.fastFields.chunk, this.fastFields.encoding);
      this.used = dataEnd;
      this.expectedChunk++;
      return this.fastFields.lineEnd + 1;
    }
    const newline = line.indexOf(NEWLINE, start);
    if (newline === -1 || newline >= limit) {
      if (limit - start > MAX_LINE_BYTES) {
        throw new HolderFailure('BAD_FRAME', `after chunk ${this.expectedChunk - 1}: a line is over the ${MAX_LINE_BYTES}-byte limit without a newline`);
      }
      return -1;
    }
    if (newline - start > MAX_LINE_BYTES) {
      throw new HolderFailure('BAD_FRAME', `after chunk ${this.expectedChunk - 1}: a line is over the ${MAX_LINE_BYTES}-byte limit`);
    }
    this.slowFrames++;
    let frame: DataFrame | PieceFrame;
    try {
      frame = parseFrameSlow(line.subarray(start, newline), this.work, this.used);
    } catch (error) {
      if (!(error instanceof FrameRejected)) throw error;
      if (error.refusal) throw new HolderFailure('REFUSED', `answered DOWNLOAD-ERROR: ${error.refusal.reason}`);
      throw new HolderFailure('BAD_FRAME', `after chunk ${this.expectedChunk - 1}: ${error.message}`);
    }
    if (frame.type === 'PIECE') throw new HolderFailure('BAD_FRAME', `after chunk ${this.expectedChunk - 1}: a PIECE frame answers only a ranged DOWNLOAD (with count)`);
    this.check(frame);
    this.used = frame.dataEnd;
    this.expectedChunk++;
    if (frame.type === 'FILE-END') this.endInfo = { size: frame.size!, sha256: frame.sha256!, chunk: frame.chunk };
    return newline + 1;
  }

  private check(frame: DataFrame): void {
    const where = `${frame.type} chunk ${frame.chunk}`;
    if (frame.rq !== this.options.rq) {
      throw new HolderFailure('BAD_FRAME', `${where}: rq ${frame.rq} does not answer DOWNLOAD rq ${this.options.rq}`);
    }
    if (frame.file !== this.options.file) {
      throw new HolderFailure('BAD_FRAME', `${where}: file ${show(frame.file)} is not the file asked for, ${show(this.options.file)}`);
    }
    this.checkSequence(frame.type, frame.chunk, frame.encoding);
  }

  /** Chunks come numbered on without gaps, all in one encoding. */
  private checkSequence(type: DataFrame['type'], chunk: number, encoding: ChunkEncoding): void {
    if (chunk !== this.expectedChunk) {
      throw new HolderFailure('BAD_FRAME', `${type} chunk ${chunk}: expected chunk ${this.expectedChunk} (chunks are numbered without gaps from ${this.options.fromChunk})`);
    }
    if (this.encodingSeen === undefined) {
      this.encodingSeen = encoding;
    } else if (encoding !== this.encodingSeen) {
      // On the first frame of a resumed download this is a holder that encodes the file otherwise
      // (its chunk numbers mean other bytes): the download must start over, with any holder.
      const resuming = chunk === this.options.fromChunk;
      throw new HolderFailure('BAD_FRAME', `${type} chunk ${chunk}: encoding ${encoding} differs from the ${this.encodingSeen} of the chunks before it`, { discardPartial: resuming });
    }
  }
}
