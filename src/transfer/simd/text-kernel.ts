// The transfer's SIMD kernel (text-kernel.wat, assembled by `npm run gen`): the text loop of a FILE
// frame, 16 bytes at a time. It reads and writes only its own memory, so its user lays that memory
// out and copies bytes in and out of it (a memcpy per block costs far less than the loop saves:
// scripts/bench-codec.ts). Each instance has its own fixed memory: views of it stay valid.
import { TEXT_KERNEL_WASM } from '../../generated/text-kernel-wasm.js';

/** Where decodeText leaves its results in memory (three i32), before the first free byte. */
const RESULTS_BYTES = 16;
const OUT_END = 0;
const CHARS = 1;
const HIGH_BYTES = 2;

let compiled: WebAssembly.Module | undefined;

export class TextKernel {
  /** The kernel's memory; bytes from `firstFree` on are the user's to lay out. */
  readonly memory: Buffer;
  readonly firstFree = RESULTS_BYTES;
  private readonly results: Int32Array;
  private readonly decode: (at: number, end: number, out: number) => number;

  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(TEXT_KERNEL_WASM, 'base64'));
    const { exports } = new WebAssembly.Instance(compiled, {});
    const { buffer } = exports.memory as WebAssembly.Memory;
    this.memory = Buffer.from(buffer);
    this.results = new Int32Array(buffer, 0, RESULTS_BYTES / 4);
    this.decode = exports.decodeText as (at: number, end: number, out: number) => number;
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

  /** After decodeText: where the decoded bytes end. */
  get outEnd(): number {
    return this.results[OUT_END]!;
  }

  /** After decodeText: the code points decoded (each escape is one). */
  get chars(): number {
    return this.results[CHARS]!;
  }

  /** After decodeText: whether any decoded byte is ≥ 0x80 (only then can the text be invalid UTF-8). */
  get sawHighBytes(): boolean {
    return this.results[HIGH_BYTES] !== 0;
  }
}
