// The downloader's side of a ranged reply: bytes from one connection → whole pieces, each with the
// PIECE frame that announced it. Lines are split with the protocol's ceiling in the memory of a
// SIMD text kernel (kernel-blocks.ts); runs of FILE frames (text or base64) are decoded there by
// the kernel, other lines take the fast path (no JSON.parse) or the protocol edge, and a whole
// piece is copied out into a shared slab (slabs.ts), where it stays until it is on disk. Holds the
// holder to the rules: the rq and file asked for, a PIECE frame for each piece in order, chunks
// numbered on without gaps, one encoding, FILE-END exactly at the file's last chunk. Ranges asked
// ahead queue up and are held to their rules in the order they were asked. Whether the piece's
// bytes are right is for the Merkle proof to say, not this decoder.
import { isUtf8 } from 'node:buffer';
import type { PieceFrame } from '../../generated/types.js';
import { MAX_LINE_BYTES, show } from '../../protocol/index.js';
import { HolderFailure } from '../errors.js';
import { MAX_TEXT_CHUNK_BYTES } from '../limits.js';
import { CHUNKS_PER_PIECE, firstChunkOf, LEAF_PREFIX_BYTES, writeLeafPrefix } from '../pieces/merkle.js';
import { FrameRejected, parseCanonicalFile, parseFrameSlow, type DataFrame, type FastFrameFields } from './frame-parser.js';
import { FRAME_ROOM, KernelBlocks, type LineSink } from './kernel-blocks.js';
import { canonicalPrefix, NEWLINE, type ChunkEncoding } from './layout.js';
import { SlabPool, type Slab } from './slabs.js';

/** One piece as it arrived: what its PIECE frame said, and its decoded bytes. */
export interface ReceivedPiece {
  piece: number;
  offset: number;
  proof: string[];
  data: Buffer;
  /** What the piece's leaf hashes: its offset (LEAF_PREFIX_BYTES) and then `data`, in one run of memory. */
  leaf: Buffer;
  encoding: ChunkEncoding;
  /** The file's last piece: what its FILE-END said about the whole file. */
  fileEnd?: { size: number; sha256: string };
  /**
   * Says the downloader is done with `data` and `leaf` (written to disk, or dropped): their memory
   * is decoded into again. Call it once nothing reads them any more, never before.
   */
  release: () => void;
}

export interface PieceDecoderOptions {
  /** The file name asked for (NFC). */
  file: string;
  /** The file's chunk count, as published. */
  chunks: number;
  /** Where pieces are decoded: the holders of one download share a pool (default: one of its own). */
  slabs?: SlabPool;
}

/** The most bytes one piece can decode to: 256 chunks of 200 four-byte characters. */
const MAX_PIECE_BYTES = CHUNKS_PER_PIECE * MAX_TEXT_CHUNK_BYTES;
/** The piece being decoded: its leaf's offset prefix, its bytes, and the room of one more frame. */
const WORK_BYTES = LEAF_PREFIX_BYTES + MAX_PIECE_BYTES + FRAME_ROOM;
/** Whole pieces are copied into slabs this large, packed one after another. */
const SLAB_BYTES = Math.max(256 * 1024, LEAF_PREFIX_BYTES + MAX_PIECE_BYTES);
/** Released slabs a download keeps for its next pieces, whatever the number of holders. */
const IDLE_SLABS = 4;

/** The slabs of one download's piece decoders. */
export const pieceSlabPool = (): SlabPool => new SlabPool(SLAB_BYTES, IDLE_SLABS);

/** A ranged DOWNLOAD whose reply is due: its rq, and pieces first..last. */
interface AskedRange {
  rq: number;
  first: number;
  last: number;
}

export class PieceDecoder implements LineSink {
  /** Ranges asked for after the one being received, oldest first. */
  private readonly queued: AskedRange[] = [];
  private rq = -1;
  private filePrefix = canonicalPrefix(-1, '');
  private readonly fastFields: FastFrameFields = { chunk: 0, encoding: 'utf8', lineEnd: 0, utf8Unchecked: false };
  private readonly slabs: SlabPool;
  private slab: Slab;
  /** Bytes of the slab handed out in pieces. */
  private slabUsed = 0;
  private readonly blocks = new KernelBlocks(WORK_BYTES);
  private readonly kernel = this.blocks.kernel;
  /** Where the piece being decoded is decoded, in the kernel's memory. */
  private readonly work = this.blocks.work;
  private readonly workView = this.blocks.workView;
  /** End of what the piece being decoded holds in `work` (its offset prefix first). */
  private used = 0;
  /** Pieces the bytes being fed completed. */
  private done: ReceivedPiece[] = [];
  /** The piece being received (its PIECE frame arrived), or undefined while a PIECE frame is due. */
  private current: PieceFrame | undefined;
  private nextPiece = 0;
  private lastPiece = -1;
  private expectedChunk = 0;
  private lastChunkOfPiece = 0;
  private encodingSeen: ChunkEncoding | undefined;
  /** A frame of the current piece left its UTF-8 unchecked: the whole piece is checked at its end. */
  private utf8Unchecked = false;

  constructor(private readonly options: PieceDecoderOptions) {
    this.slabs = options.slabs ?? pieceSlabPool();
    this.slab = this.slabs.take();
  }

  /**
   * Expects the reply to a ranged DOWNLOAD (rq) for pieces first..last, after the replies to the
   * ranges expected before it (push() moves on to it once the range before it is done).
   */
  expect(rq: number, first: number, last: number): void {
    this.queued.push({ rq, first, last });
  }

  /** Whether every piece of the range being received arrived. */
  private get rangeDone(): boolean {
    return this.nextPiece > this.lastPiece && this.current === undefined;
  }

  /** Moves on to the oldest queued range; false when none is queued. */
  private startNextRange(): boolean {
    const range = this.queued.shift();
    if (!range) return false;
    this.rq = range.rq;
    this.filePrefix = canonicalPrefix(range.rq, this.options.file);
    this.kernel.setPrefix(this.filePrefix.bytes);
    this.nextPiece = range.first;
    this.lastPiece = range.last;
    return true;
  }

  /**
   * Feeds bytes from the socket; returns the pieces they completed. Throws HolderFailure (BAD_FRAME
   * or REFUSED) at the first frame that breaks the rules, and at any byte after the range. Nothing
   * keeps `data` once this returns: it may be a reused read buffer (download/socket-reads.ts).
   */
  push(data: Buffer): ReceivedPiece[] {
    this.done = [];
    this.blocks.feed(data, this);
    return this.done;
  }

  wantsLine(): boolean {
    if (this.rangeDone && !this.startNextRange()) throw this.bad(`sent more after the last piece asked for (${this.lastPiece})`);
    return true;
  }

  lineTooLong(): Error {
    return this.bad(`a line is over the ${MAX_LINE_BYTES}-byte limit without a newline`);
  }

  /**
   * Lets the kernel decode the run of FILE frames at input[start..limit) that continue the
   * piece being decoded, short of its last chunk (decodeLine ends the piece); returns where the
   * first line it left starts. Each frame it takes is one decodeLine would take the same way.
   */
  decodeRun(start: number, limit: number): number {
    if (this.current === undefined) return start;
    const lastInRun = Math.min(this.lastChunkOfPiece, this.options.chunks) - 1;
    if (this.expectedChunk > lastInRun) return start;
    const input = this.blocks.input.byteOffset;
    const work = this.work.byteOffset;
    const frames = this.kernel.parseFrames(this.encodingSeen, input + start, input + limit, work + this.used, this.expectedChunk, lastInRun);
    if (frames === 0) return start;
    this.expectedChunk += frames;
    this.encodingSeen = this.kernel.runEncoding;
    this.used = this.kernel.outEnd - work;
    this.utf8Unchecked ||= this.kernel.sawHighBytes;
    return this.kernel.next - input;
  }

  /**
   * Decodes the line at line[start..], which ends with a newline before `limit` or is not complete
   * yet; a piece it completes goes to `done`. Returns where the next line starts, or -1 when the
   * line is not complete.
   */
  decodeLine(line: Buffer, lineView: DataView, start: number, limit: number): number {
    if (this.current !== undefined) {
      const dataEnd = parseCanonicalFile(line, lineView, start, limit, this.filePrefix, this.work, this.workView, this.used, this.fastFields, this.kernel);
      if (dataEnd >= 0) {
        this.checkChunk('FILE', this.fastFields.chunk, this.fastFields.encoding);
        this.utf8Unchecked ||= this.fastFields.utf8Unchecked;
        this.used = dataEnd;
        const piece = this.chunkDone();
        if (piece) this.done.push(piece);
        return this.fastFields.lineEnd + 1;
      }
    }
    const newline = line.indexOf(NEWLINE, start);
    if (newline === -1 || newline >= limit) {
      if (limit - start > MAX_LINE_BYTES) throw this.bad(`a line is over the ${MAX_LINE_BYTES}-byte limit without a newline`);
      return -1;
    }
    if (newline - start > MAX_LINE_BYTES) throw this.bad(`a line is over the ${MAX_LINE_BYTES}-byte limit`);
    const frame = this.parseSlow(line.subarray(start, newline));
    if (this.current === undefined) {
      this.startPiece(frame);
      return newline + 1;
    }
    if (frame.type === 'PIECE') throw this.bad(`PIECE frame for piece ${frame.piece} arrived inside piece ${this.current.piece}, at chunk ${this.expectedChunk}`);
    this.checkChunk(frame.type, frame.chunk, frame.encoding);
    this.used = frame.dataEnd;
    const piece = this.chunkDone();
    if (piece) {
      if (frame.type === 'FILE-END') piece.fileEnd = { size: frame.size!, sha256: frame.sha256! };
      this.done.push(piece);
    }
    return newline + 1;
  }

  private parseSlow(line: Uint8Array): DataFrame | PieceFrame {
    let frame: DataFrame | PieceFrame;
    try {
      frame = parseFrameSlow(line, this.work, this.used);
    } catch (error) {
      if (!(error instanceof FrameRejected)) throw error;
      if (error.refusal) throw new HolderFailure('REFUSED', `answered DOWNLOAD-ERROR: ${error.refusal.reason}`);
      throw this.bad(error.message);
    }
    if (frame.rq !== this.rq) throw this.bad(`${frame.type}: rq ${frame.rq} does not answer DOWNLOAD rq ${this.rq}`);
    if (frame.file !== this.options.file) throw this.bad(`${frame.type}: file ${show(frame.file)} is not the file asked for, ${show(this.options.file)}`);
    return frame;
  }

  private startPiece(frame: DataFrame | PieceFrame): void {
    if (frame.type !== 'PIECE') throw this.bad(`${frame.type} chunk ${frame.chunk} arrived where the PIECE frame of piece ${this.nextPiece} was due`);
    if (frame.piece !== this.nextPiece) throw this.bad(`PIECE frame for piece ${frame.piece}, expected piece ${this.nextPiece}`);
    this.current = frame;
    this.utf8Unchecked = false;
    this.expectedChunk = firstChunkOf(frame.piece);
    this.lastChunkOfPiece = Math.min(this.options.chunks, this.expectedChunk + CHUNKS_PER_PIECE - 1);
    // The leaf's offset prefix goes right before the piece's bytes, so the leaf is hashed in one call.
    writeLeafPrefix(frame.offset, this.workView, 0);
    this.used = LEAF_PREFIX_BYTES;
  }

  /** Goes on in a fresh slab; the pieces in the old one keep it from reuse until they are released. */
  private nextSlab(): void {
    this.slabs.retire(this.slab);
    this.slab = this.slabs.take();
    this.slabUsed = 0;
  }

  private checkChunk(type: DataFrame['type'], chunk: number, encoding: ChunkEncoding): void {
    if (chunk !== this.expectedChunk) throw this.bad(`${type} chunk ${chunk}: expected chunk ${this.expectedChunk} of piece ${this.current!.piece}`);
    const last = chunk === this.options.chunks;
    if (type === 'FILE-END' && !last) throw this.bad(`FILE-END at chunk ${chunk}, but the file has ${this.options.chunks} chunks`);
    if (type === 'FILE' && last) throw this.bad(`chunk ${chunk} is the file's last and must come as FILE-END`);
    if (this.encodingSeen === undefined) this.encodingSeen = encoding;
    else if (encoding !== this.encodingSeen) throw this.bad(`${type} chunk ${chunk}: encoding ${encoding} differs from the ${this.encodingSeen} of the chunks before it`);
  }

  /** Counts the chunk just decoded; returns the piece when it was the piece's last. */
  private chunkDone(): ReceivedPiece | undefined {
    if (this.expectedChunk++ < this.lastChunkOfPiece) return undefined;
    const frame = this.current!;
    if (this.utf8Unchecked && !isUtf8(this.work.subarray(LEAF_PREFIX_BYTES, this.used))) {
      throw this.bad(`piece ${frame.piece}: the text of its FILE frames is not valid UTF-8`);
    }
    this.current = undefined;
    this.nextPiece++;
    if (this.slab.bytes.length - this.slabUsed < this.used) this.nextSlab();
    const leaf = this.slab.bytes.subarray(this.slabUsed, this.slabUsed + this.used);
    this.work.copy(leaf, 0, 0, this.used);
    this.slabUsed += this.used;
    return {
      piece: frame.piece, offset: frame.offset, proof: frame.proof, encoding: this.encodingSeen!,
      data: leaf.subarray(LEAF_PREFIX_BYTES), leaf, release: this.slabs.handOut(this.slab),
    };
  }

  private bad(why: string): HolderFailure {
    return new HolderFailure('BAD_FRAME', why);
  }
}
