// The transfer's SIMD kernel (text-kernel.wat, assembled by `npm run gen`): FILE frames of text,
// decoded or encoded 16 bytes at a time, and of base64, 16 characters at a time, a whole run of
// them per call. It reads and writes only its own memory, so its user lays that memory out and
// copies bytes in and out of it (a memcpy per block costs far less than the kernel saves:
// scripts/bench-codec.ts). Each instance has its own fixed memory: views of it stay valid.
import { TEXT_KERNEL_WASM } from '../../generated/text-kernel-wasm.js';
import type { ChunkEncoding } from '../codec/layout.js';

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

/** A run of frames decoded from memory[at..limit) into memory[out..]: how many. */
type ParseRun = (at: number, limit: number, out: number, chunk: number, lastChunk: number) => number;
/** A run of frames encoded from memory[at..end) into memory[out..outLimit): how many. */
type EncodeRun = (at: number, end: number, out: number, outLimit: number, chunk: number, frameRoom: number) => number;

let compiled: WebAssembly.Module | undefined;

export class TextKernel {
  /** The kernel's memory; bytes from `firstFree` on are the user's to lay out. */
  readonly memory: Buffer;
  readonly firstFree = PREFIX_AT + MAX_PREFIX_BYTES;
  private readonly results: Int32Array;
  private readonly decode: (at: number, end: number, out: number) => number;
  private readonly parseRun: ParseRun;
  private readonly parseBase64Run: ParseRun;
  private readonly encodeRun: EncodeRun;
  private readonly encodeBase64Run: EncodeRun;
  /** The encoding of the frames the last parseFrames took. */
  runEncoding: ChunkEncoding = 'utf8';

  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(TEXT_KERNEL_WASM, 'base64'));
    const { exports } = new WebAssembly.Instance(compiled, {});
    const { buffer } = exports.memory as WebAssembly.Memory;
    this.memory = Buffer.from(buffer);
    this.results = new Int32Array(buffer, 0, RESULTS_BYTES / 4);
    this.decode = exports.decodeText as (at: number, end: number, out: number) => number;
    this.parseRun = exports.parseTextFrames as ParseRun;
    this.parseBase64Run = exports.parseBase64Frames as ParseRun;
    this.encodeRun = exports.encodeTextFrames as EncodeRun;
    this.encodeBase64Run = exports.encodeBase64Frames as EncodeRun;
  }

  /**
   * Sets how every frame parseFrames takes and the encoders write starts:
   * `{"type":"FILE","rq":R,"file":F,"chunk":`. Any valid file name fits: 255 code points of at
   * most 4 bytes, or 2 escaped.
   */
  setPrefix(prefix: Uint8Array): void {
    if (prefix.length > MAX_PREFIX_BYTES) throw new Error(`a frame prefix of ${prefix.length} bytes is longer than the kernel holds (${MAX_PREFIX_BYTES})`);
    this.memory.set(prefix, PREFIX_AT);
    this.memory.writeInt32LE(prefix.length, PREFIX_LENGTH_AT);
  }

  /**
   * Decodes the FILE frames at memory[at..limit) in the canonical layout, with the prefix set and
   * numbered chunk, chunk + 1, … up to lastChunk at most, into memory[out..], one after another:
   * frames of text (200 code points) when `encoding` is utf8, of base64 (200 characters without
   * padding, 150 bytes) when it is base64, and while it is not known yet, in the encoding of the
   * first frame (runEncoding then says which). Stops at the first line that is anything else, or
   * not whole before `limit`, and leaves it to the caller. Returns the number of frames decoded;
   * then outEnd, next (where the line it stopped at starts) and sawHighBytes tell the rest.
   */
  parseFrames(encoding: ChunkEncoding | undefined, at: number, limit: number, out: number, chunk: number, lastChunk: number): number {
    if (encoding !== 'base64') {
      const frames = this.parseRun(at, limit, out, chunk, lastChunk);
      if (frames > 0 || encoding === 'utf8') {
        this.runEncoding = 'utf8';
        return frames;
      }
    }
    this.runEncoding = 'base64';
    return this.parseBase64Run(at, limit, out, chunk, lastChunk);
  }

  /**
   * Encodes the UTF-8 text at memory[at..end) as FILE frames of 200 code points (escaped as
   * JSON.stringify escapes them, with the prefix set), numbered from `chunk`, into memory[out..].
   * A chunk is written only once a byte after it shows it is not the file's last, and only while
   * `frameRoom` bytes fit before outLimit. Returns the number of frames written; then outEnd, and
   * next (where the first chunk not written starts).
   */
  encodeTextFrames(at: number, end: number, out: number, outLimit: number, chunk: number, frameRoom: number): number {
    return this.encodeRun(at, end, out, outLimit, chunk, frameRoom);
  }

  /** The same for any bytes, as FILE frames of base64: 150 bytes (200 characters) each. */
  encodeBase64Frames(at: number, end: number, out: number, outLimit: number, chunk: number, frameRoom: number): number {
    return this.encodeBase64Run(at, end, out, outLimit, chunk, frameRoom);
  }

  /** After parseFrames: where the line it stopped at starts; after an encoder: the first byte not encoded. */
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

  /** After any call: where the bytes it wrote end. */
  get outEnd(): number {
    return this.results[OUT_END]!;
  }

  /** After decodeText: the code points decoded (each escape is one). */
  get chars(): number {
    return this.results[CHARS]!;
  }

  /** After decodeText or parseFrames: whether a decoded byte is ≥ 0x80 (only then can the text be invalid UTF-8). */
  get sawHighBytes(): boolean {
    return this.results[HIGH_BYTES] !== 0;
  }
}
