// The downloader's side of the codec: a TCP byte stream → verified file bytes. Splits lines (with
// the protocol's line-length ceiling), parses each frame (fast path, else the protocol edge), and
// holds the holder to the transfer rules: the rq and file it asked for, chunks numbered on from
// fromChunk without gaps, one encoding throughout.
import { isUtf8 } from 'node:buffer';
import type { PieceFrame } from '../../generated/types.js';
import { MAX_LINE_BYTES, show } from '../../protocol/index.js';
import { HolderFailure } from '../errors.js';
import { PART_FLUSH_BYTES } from '../limits.js';
import { FAST_PATH_OUTPUT_BYTES, FrameRejected, parseCanonicalFile, parseFrameSlow, type DataFrame, type FastFrameFields } from './frame-parser.js';
import { canonicalPrefix, NEWLINE, viewOf, type FixedBytes, type ChunkEncoding } from './layout.js';

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

export class FrameDecoder {
  /** `{"type":"FILE","rq":R,"file":F,"chunk":` — how each of the holder's FILE frames starts. */
  private readonly filePrefix: FixedBytes;
  private readonly fastFields: FastFrameFields = { chunk: 0, encoding: 'utf8', lineEnd: 0, utf8Unchecked: false };
  private out: Buffer;
  private outView: DataView;
  private used = 0;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private expectedChunk: number;
  private encodingSeen: ChunkEncoding | undefined;
  private endInfo: FileEndInfo | undefined;
  /** Frames that took the slow path: just FILE-END for a peer that writes the canonical layout. */
  slowFrames = 0;

  constructor(private readonly options: FrameDecoderOptions) {
    this.filePrefix = canonicalPrefix(options.rq, options.file);
    this.expectedChunk = options.fromChunk;
    this.encodingSeen = options.encoding;
    this.out = Buffer.allocUnsafe(PART_FLUSH_BYTES + 2 * MAX_LINE_BYTES);
    this.outView = viewOf(this.out);
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
    return this.used;
  }

  /**
   * Feeds bytes from the socket. Throws HolderFailure (BAD_FRAME or REFUSED) at the first frame
   * that breaks the rules; bytes after FILE-END are ignored.
   */
  push(data: Buffer): void {
    const view = viewOf(data);
    let start = 0;
    while (start < data.length && this.endInfo === undefined) {
      if (this.carryBytes > 0) {
        // The line began in an earlier block: join it up once its newline is here.
        const newline = data.indexOf(NEWLINE, start);
        this.keep(data.subarray(start, newline === -1 ? data.length : newline + 1));
        if (newline === -1) return;
        const line = Buffer.concat(this.carry, this.carryBytes);
        this.carry = [];
        this.carryBytes = 0;
        this.decodeLine(line, viewOf(line), 0, line.length);
        start = newline + 1;
        continue;
      }
      const next = this.decodeLine(data, view, start, data.length);
      if (next === -1) {
        this.keep(data.subarray(start));
        return;
      }
      start = next;
    }
  }

  /** Hands over the decoded bytes so far (the caller writes them to disk). */
  takeOutput(): Buffer {
    const taken = this.out.subarray(0, this.used);
    this.out = Buffer.allocUnsafe(PART_FLUSH_BYTES + 2 * MAX_LINE_BYTES);
    this.outView = viewOf(this.out);
    this.used = 0;
    return taken;
  }

  private keep(part: Buffer): void {
    this.carryBytes += part.length;
    if (this.carryBytes > MAX_LINE_BYTES + 1) {
      throw new HolderFailure('BAD_FRAME', `after chunk ${this.expectedChunk - 1}: a line is over the ${MAX_LINE_BYTES}-byte limit without a newline`);
    }
    this.carry.push(part);
  }

  /**
   * Decodes the line at line[start..], which ends with a newline before `limit` or is not complete
   * yet. Returns where the next line starts, or -1 when the line is not complete.
   */
  private decodeLine(line: Uint8Array, lineView: DataView, start: number, limit: number): number {
    // Room for what a fast-path frame decodes to; the slow path makes room for its own line below.
    if (this.out.length - this.used < FAST_PATH_OUTPUT_BYTES) this.grow(FAST_PATH_OUTPUT_BYTES);
    const dataEnd = parseCanonicalFile(line, lineView, start, limit, this.filePrefix, this.out, this.outView, this.used, this.fastFields);
    // UTF-8 is checked frame by frame here: a frame that is not goes on to the slow path, which
    // names its chunk in the error.
    if (dataEnd >= 0 && (!this.fastFields.utf8Unchecked || isUtf8(this.out.subarray(this.used, dataEnd)))) {
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
    if (this.out.length - this.used < newline - start) this.grow(newline - start);
    this.slowFrames++;
    let frame: DataFrame | PieceFrame;
    try {
      frame = parseFrameSlow(line.subarray(start, newline), this.out, this.used);
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

  private grow(room: number): void {
    const bigger = Buffer.allocUnsafe(this.used + room + PART_FLUSH_BYTES);
    this.out.copy(bigger, 0, 0, this.used);
    this.out = bigger;
    this.outView = viewOf(bigger);
  }
}
