// Bytes from a socket → lines, in the memory of a SIMD text kernel (../simd/text-kernel.ts), which
// reads and writes nothing else. Each block is copied into the kernel's input region, 64 KB at a
// time, and a line cut between two blocks is joined up in its carried region; the decoders (the
// whole-file FrameDecoder, the ranged PieceDecoder) decode into its work region. Nothing here
// keeps the block it was given: it may be a socket's reused read buffer.
import { MAX_LINE_BYTES } from '../../protocol/index.js';
import { SOCKET_READ_BYTES } from '../limits.js';
import { TextKernel } from '../simd/text-kernel.js';
import { FAST_PATH_OUTPUT_BYTES } from './frame-parser.js';
import { NEWLINE, viewOf } from './layout.js';

/** Blocks are decoded in the kernel's memory this many bytes at a time. */
const INPUT_BYTES = SOCKET_READ_BYTES;
/** A line cut between blocks is joined up in the kernel's memory: at most this long. */
const CARRIED_LINE_BYTES = MAX_LINE_BYTES + 1;

/**
 * Room one frame's data may take in the work region while it is decoded: the fast path scans up to
 * 1,200 bytes, the kernel writes up to 16 past them, the slow path writes a whole line's text.
 */
export const FRAME_ROOM = Math.max(FAST_PATH_OUTPUT_BYTES + 16, MAX_LINE_BYTES);

/** What a decoder does with the lines of the blocks fed to it. */
export interface LineSink {
  /** Whether the next line is wanted (false: the rest is ignored); may throw when none may come. */
  wantsLine(): boolean;
  /**
   * Decodes the run of frames at the start of input[start..limit) it can take in one go (the
   * kernel's parseFrames); returns where the first line it left starts.
   */
  decodeRun(start: number, limit: number): number;
  /**
   * Decodes the line at line[start..], which ends with a newline before `limit` or is not complete
   * yet. Returns where the next line starts, or -1 when the line is not complete.
   */
  decodeLine(line: Buffer, lineView: DataView, start: number, limit: number): number;
  /** The error for a line that grows past MAX_LINE_BYTES without a newline. */
  lineTooLong(): Error;
}

export class KernelBlocks {
  readonly kernel = new TextKernel();
  /** Where each block is decoded: the kernel's input region. */
  readonly input: Buffer;
  readonly inputView: DataView;
  private readonly carried: Buffer;
  private readonly carriedView: DataView;
  private carryBytes = 0;
  /** The decoder's own region, `workBytes` long. */
  readonly work: Buffer;
  readonly workView: DataView;

  constructor(workBytes: number) {
    const region = (from: number, bytes: number): [Buffer, DataView] => {
      const there = this.kernel.memory.subarray(from, from + bytes);
      if (there.length < bytes) throw new Error(`the text kernel's memory is too small for a decoder (${from + bytes} bytes)`);
      return [there, viewOf(there)];
    };
    const first = this.kernel.firstFree;
    [this.input, this.inputView] = region(first, INPUT_BYTES);
    [this.carried, this.carriedView] = region(first + INPUT_BYTES, CARRIED_LINE_BYTES);
    [this.work, this.workView] = region(first + INPUT_BYTES + CARRIED_LINE_BYTES, workBytes);
  }

  /** Feeds bytes from the socket to `sink`, line by line; throws what the sink throws. */
  feed(data: Buffer, sink: LineSink): void {
    for (let from = 0; from < data.length; from += INPUT_BYTES) {
      const bytes = data.copy(this.input, 0, from, Math.min(data.length, from + INPUT_BYTES));
      if (!this.feedBlock(bytes, sink)) return;
    }
  }

  /** Feeds input[0..limit); false once the sink wants no more lines. */
  private feedBlock(limit: number, sink: LineSink): boolean {
    const block = this.input;
    let start = 0;
    while (start < limit) {
      if (!sink.wantsLine()) return false;
      if (this.carryBytes > 0) {
        // The line began in an earlier block: join it up once its newline is here.
        const found = block.indexOf(NEWLINE, start);
        const newline = found >= limit ? -1 : found;
        this.keep(start, newline === -1 ? limit : newline + 1, sink);
        if (newline === -1) break;
        const length = this.carryBytes;
        this.carryBytes = 0;
        sink.decodeLine(this.carried, this.carriedView, 0, length);
        start = newline + 1;
        continue;
      }
      start = sink.decodeRun(start, limit);
      if (start >= limit) break;
      const next = sink.decodeLine(block, this.inputView, start, limit);
      if (next === -1) {
        this.keep(start, limit, sink);
        break;
      }
      start = next;
    }
    return true;
  }

  /** Keeps input[from..to), the start of a line the next block goes on with (it overwrites input). */
  private keep(from: number, to: number, sink: LineSink): void {
    if (this.carryBytes + to - from > CARRIED_LINE_BYTES) throw sink.lineTooLong();
    this.carryBytes += this.input.copy(this.carried, this.carryBytes, from, to);
  }
}
