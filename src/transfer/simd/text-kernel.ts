// The transfer's SIMD kernel (text-kernel.wat, assembled by `npm run gen`): FILE frames of text,
// 16 bytes at a time, a whole run of them per call. It reads and writes only its own memory, so
// its user lays that memory out and copies bytes in and out of it (a memcpy per block costs far
// less than the kernel saves: scripts/bench-codec.ts). Each instance has its own fixed memory:
// views of it stay valid.
import { TEXT_KERNEL_WASM } from '../../generated/text-kernel-wasm.js';

/** The kernel's own memory (text-kernel.wat): results of the last call (four i32), then the frame prefix. */
const RESULTS_BYTES = 16;
const OUT_END = 0;
const CHARS = 1;
const HIGH_BYTES = 2;
const NEXT = 3;
const PREFIX_LENGTH_AT = 16;
const PREFIX_AT = 32;
/** Longest frame prefix (`{"type":"FILE","rq":…,"file":…,"chunk":`) the kernel holds. */
const MAX_PREFIX_BYTES = 2048;

let compiled: WebAssembly.Module | undefined;

export class TextKernel {
  /** The kernel's memory; bytes from `firstFree` on are the user's to lay out. */
  readonly memory: Buffer;
  readonly firstFree = PREFIX_AT + MAX_PREFIX_BYTES;
  private readonly results: Int32Array;
  private readonly decode: (at: number, end: number, out: number) => number;
  private readonly parseRun: (at: number, limit: number, out: number, chunk: number, lastChunk: number) => number;
  private hasPrefix = false;

  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(TEXT_KERNEL_WASM, 'base64'));
    const { exports } = new WebAssembly.Instance(compiled, {});
    const { buffer } = exports.memory as WebAssembly.Memory;
    this.memory = Buffer.from(buffer);
    this.results = new Int32Array(buffer, 0, RESULTS_BYTES / 4);
    this.decode = exports.decodeText as (at: number, end: number, out: number) => number;
    this.parseRun = exports.parseTextFrames as (at: number, limit: number, out: number, chunk: number, lastChunk: number) => number;
  }

  /**
   * Sets how every frame parseTextFrames takes starts: `{"type":"FILE","rq":R,"file":F,"chunk":`.
   * Returns false (and parseTextFrames then takes none) when it is too long to hold.
   */
  setPrefix(prefix: Uint8Array): boolean {
    this.hasPrefix = prefix.length <= MAX_PREFIX_BYTES;
    if (this.hasPrefix) {
      this.memory.set(prefix, PREFIX_AT);
      this.memory.writeInt32LE(prefix.length, PREFIX_LENGTH_AT);
    }
    return this.hasPrefix;
  }

  /**
   * Decodes the FILE frames of text at memory[at..limit) in the canonical layout, with the prefix
   * set and numbered chunk, chunk + 1, … up to lastChunk at most, into memory[out..], one after
   * another. Stops at the first line that is anything else, or not whole before `limit`, and
   * leaves it to the caller. Returns the number of frames decoded; then outEnd, next (where the
   * line it stopped at starts) and sawHighBytes tell the rest.
   */
  parseTextFrames(at: number, limit: number, out: number, chunk: number, lastChunk: number): number {
    if (!this.hasPrefix) return 0;
    return this.parseRun(at, limit, out, chunk, lastChunk);
  }

  /** After parseTextFrames: where the line it stopped at starts. */
  get next(): number {
    return this.results[NEXT]!;
  }

  /**
   * Decodes the JSON string body at memory[at..end) to memory[out..] the way the canonical layout
   * writes it (raw UTF-8 and JSON.stringify's escapes of ASCII) up to its closing quote, writing up
   * to 16 bytes past what it decodes. Returns the closing quote's index, or -1 for anything else:
   * the caller leaves such a line to JSON.parse.
   */
  decodeText(at: number, end: number, out: number): number {
    return this.decode(at, end, out);
  }

  /** After decodeText or parseTextFrames: where the decoded bytes end. */
  get outEnd(): number {
    return this.results[OUT_END]!;
  }

  /** After decodeText: the code points decoded (each escape is one). */
  get chars(): number {
    return this.results[CHARS]!;
  }

  /** After decodeText or parseTextFrames: whether a decoded byte is ≥ 0x80 (only then can the text be invalid UTF-8). */
  get sawHighBytes(): boolean {
    return this.results[HIGH_BYTES] !== 0;
  }
}
