// One received line → the fields of a FILE or FILE-END frame plus its decoded file bytes. The fast
// path reads FILE frames in our own canonical layout (layout.ts) without JSON.parse, its text in the
// SIMD kernel (../simd/text-kernel.ts); anything else (FILE-END, once per file, included) goes through the protocol edge (JSON.parse +
// generated validator). The fast path accepts only what the schema accepts — fewer lines, never
// more, once its caller has checked the UTF-8 it leaves to it — and yields the same chunk, encoding
// and bytes; a property test holds it to that.
import { P2fsError, type ErrorCode } from '../../errors/index.js';
import type { PieceFrame } from '../../generated/types.js';
import { decodeTcpFrame, type TcpFrame } from '../../protocol/index.js';
import { BASE64_CHUNK_BYTES, CHUNK_CHARS } from '../limits.js';
import { decodeBase64Into } from './base64.js';
import type { TextKernel } from '../simd/text-kernel.js';
import { BASE64_END, MAX_SAFE, TEXT_END, TEXT_OPEN, TEXT_START, viewOf, type FixedBytes, type ChunkEncoding } from './layout.js';

/** A FILE or FILE-END frame; its decoded bytes were written to the caller's buffer. */
export interface DataFrame {
  type: 'FILE' | 'FILE-END';
  rq: number;
  file: string;
  chunk: number;
  encoding: ChunkEncoding;
  /** End of the decoded bytes in the output buffer (they start where the caller asked). */
  dataEnd: number;
  /** FILE-END only. */
  size?: number;
  sha256?: string;
}

/** Why a frame cannot be used, in words naming the field and the rule. */
export class FrameRejected extends P2fsError<ErrorCode<'FrameRejected'>> {
  override readonly name = 'FrameRejected';
  constructor(
    message: string,
    /** The frame was a DOWNLOAD-ERROR: the holder refused, it did not break the protocol. */
    readonly refusal?: { rq: number | null; reason: string },
  ) {
    super(refusal ? 'REFUSED' : 'BAD_FRAME', message);
  }
}

/** What the fast path read besides the data: the chunk number, the encoding and where the line ends. */
export interface FastFrameFields {
  chunk: number;
  encoding: ChunkEncoding;
  /** Index of the frame's closing newline. */
  lineEnd: number;
  /**
   * The text has bytes ≥ 0x80 and whether they are valid UTF-8 is the caller's to check, with one
   * isUtf8 over the decoded bytes of many frames (one call per frame costs a fifth of the parse).
   * The text starts on a character, never on a continuation byte, so when the bytes of a run of
   * frames are valid UTF-8 together, each frame's are valid alone, as the schema requires.
   */
  utf8Unchecked: boolean;
}

/** Most bytes 200 characters of text take in a frame: each escaped as \u00XX. */
const MAX_TEXT_FIELD_BYTES = CHUNK_CHARS * 6;

/**
 * Room the fast path needs in its output: it decodes a text as it scans it, before it knows whether
 * the text is too long, and scans at most MAX_TEXT_FIELD_BYTES.
 */
export const FAST_PATH_OUTPUT_BYTES = MAX_TEXT_FIELD_BYTES;

/**
 * Parses a FILE frame in the canonical layout that starts at `start`, whose bytes up to the chunk
 * number must be exactly `prefix`, and ends with a newline before `limit`. Decodes its data into
 * out at `at` (which must have room for FAST_PATH_OUTPUT_BYTES) and returns where the data ends,
 * filling `fields`; returns -1 when the line is anything else, laid out otherwise, doubtful or not
 * complete before `limit` (the caller then finds the newline and takes the slow path). A text with
 * bytes ≥ 0x80 comes back with `fields.utf8Unchecked` set: the caller must check it is UTF-8.
 *
 * The frame's end is found by its layout, not by searching for the newline: every byte up to the
 * newline is one the layout allows, and none of them is a newline.
 *
 * Line and out must be views of the kernel's memory: the text is decoded there.
 */
export function parseCanonicalFile(
  line: Uint8Array, lineView: DataView, start: number, limit: number, prefix: FixedBytes,
  out: Uint8Array, outView: DataView, at: number, fields: FastFrameFields, kernel: TextKernel,
): number {
  if (!matches(line, lineView, start, limit, prefix)) return -1;
  const chunk = readInteger(line, start + prefix.bytes.length, limit, MAX_SAFE);
  if (chunk < 1) return -1;
  const textStart = integerEnd + TEXT_OPEN.length;
  if (!matches(line, lineView, integerEnd, limit, TEXT_START)) return -1;
  fields.chunk = chunk;

  // 200 characters of base64 = 150 bytes; the decoder refuses anything outside the alphabet,
  // which includes every escape and raw control character.
  const base64End = textStart + CHUNK_CHARS;
  if (matches(line, lineView, base64End, limit, BASE64_END)) {
    fields.encoding = 'base64';
    fields.utf8Unchecked = false;
    fields.lineEnd = base64End + BASE64_END.bytes.length - 1;
    const dataEnd = decodeBase64Into(line, lineView, textStart, base64End, out, outView, at);
    return dataEnd - at === BASE64_CHUNK_BYTES ? dataEnd : -1;
  }
  fields.encoding = 'utf8';
  const scanEnd = Math.min(limit, textStart + MAX_TEXT_FIELD_BYTES);
  // Addresses in the kernel's memory, of which line and out are views.
  const quote = kernel.decodeText(line.byteOffset + textStart, line.byteOffset + scanEnd, out.byteOffset + at);
  if (quote < 0) return -1;
  const textEnd = quote - line.byteOffset;
  const chars = kernel.chars;
  const sawHighBytes = kernel.sawHighBytes;
  const dataEnd = kernel.outEnd - out.byteOffset;
  if (chars !== CHUNK_CHARS || !matches(line, lineView, textEnd, limit, TEXT_END)) return -1;
  fields.utf8Unchecked = sawHighBytes;
  if (sawHighBytes && (out[at]! & 0xc0) === 0x80) return -1;
  fields.lineEnd = textEnd + TEXT_END.bytes.length - 1;
  return dataEnd;
}

/**
 * Parses any line through the protocol edge (JSON.parse + generated validator) and decodes its text
 * into out at `at` (a PIECE frame carries no text: it is returned as it is). Throws FrameRejected with the reason when the line is not a usable data frame.
 */
export function parseFrameSlow(line: Uint8Array, out: Uint8Array, at: number): DataFrame | PieceFrame {
  let frame: TcpFrame;
  try {
    frame = decodeTcpFrame(line);
  } catch (error) {
    throw new FrameRejected((error as Error).message);
  }
  if (frame.type === 'DOWNLOAD-ERROR') {
    throw new FrameRejected(`holder refused: ${frame.reason}`, { rq: frame.rq, reason: frame.reason });
  }
  if (frame.type === 'PIECE') return frame;
  // Greetings of connections opened for callbacks and relays (src/reach/) come first, never among data.
  if (frame.type === 'CONNECTED-BACK' || frame.type === 'RELAY-READY' || frame.type === 'RELAY-DENIED') {
    throw new FrameRejected(`${frame.type} in the middle of a download`);
  }
  const encoding: ChunkEncoding = frame.encoding === 'base64' ? 'base64' : 'utf8';
  let dataEnd: number;
  if (encoding === 'base64') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(frame.text)) throw new FrameRejected(`chunk ${frame.chunk}: text is not base64`);
    const written = Buffer.from(out.buffer, out.byteOffset, out.length).write(frame.text, at, 'latin1');
    const outView = viewOf(out);
    dataEnd = decodeBase64Into(out, outView, at, at + written, out, outView, at);
    if (dataEnd < 0) throw new FrameRejected(`chunk ${frame.chunk}: text is not canonical base64 (length ${frame.text.length})`);
    if (frame.type === 'FILE' && dataEnd - at !== BASE64_CHUNK_BYTES) {
      throw new FrameRejected(`chunk ${frame.chunk}: a base64 FILE frame must carry ${BASE64_CHUNK_BYTES} bytes, got ${dataEnd - at}`);
    }
  } else {
    // A lone surrogate (only possible as a \u escape) is no character of any UTF-8 file.
    if (/\p{Surrogate}/u.test(frame.text)) throw new FrameRejected(`chunk ${frame.chunk}: text contains a lone surrogate`);
    dataEnd = at + Buffer.from(out.buffer, out.byteOffset, out.length).write(frame.text, at, 'utf8');
  }
  const base = { type: frame.type, rq: frame.rq, file: frame.file, chunk: frame.chunk, encoding, dataEnd };
  return frame.type === 'FILE-END' ? { ...base, size: frame.size, sha256: frame.sha256 } : base;
}

/** Whether `expected` is at line[at..], wholly before `limit`; compared four bytes at a time. */
function matches(line: Uint8Array, lineView: DataView, at: number, limit: number, expected: FixedBytes): boolean {
  const { bytes, view } = expected;
  const length = bytes.length;
  if (at < 0 || limit - at < length) return false;
  let i = 0;
  for (; i + 4 <= length; i += 4) if (lineView.getUint32(at + i) !== view.getUint32(i)) return false;
  for (; i < length; i++) if (line[at + i] !== bytes[i]) return false;
  return true;
}

/** Where the last readInteger stopped (saves an allocation per field). */
let integerEnd = 0;

/** A JSON integer without sign, fraction, exponent or leading zero, at most `max`; else -1. */
function readInteger(line: Uint8Array, at: number, end: number, max: number): number {
  let value = 0;
  let i = at;
  for (; i < end && i - at < 17; i++) {
    const digit = line[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  const digits = i - at;
  if (digits === 0 || digits > 16 || (digits > 1 && line[at] === 0x30) || value > max) return -1;
  integerEnd = i;
  return value;
}
