// One received line → the fields of a FILE or FILE-END frame plus its decoded file bytes. The fast
// path reads FILE frames in our own canonical layout (layout.ts) byte by byte without JSON.parse;
// anything else (FILE-END, once per file, included) goes through the protocol edge (JSON.parse +
// generated validator). The fast path accepts only what the schema accepts — fewer lines, never
// more, once its caller has checked the UTF-8 it leaves to it — and yields the same chunk, encoding
// and bytes; a property test holds it to that.
import { P2fsError, type ErrorCode } from '../../errors/index.js';
import type { PieceFrame } from '../../generated/types.js';
import { decodeTcpFrame, type TcpFrame } from '../../protocol/index.js';
import { BASE64_CHUNK_BYTES, CHUNK_CHARS } from '../limits.js';
import { decodeBase64Into } from './base64.js';
import { jsonSpecialBytes, leadBytes, lowBytes, plainBytesBefore } from './utf8.js';
import type { TextKernel } from '../simd/text-kernel.js';
import { BACKSLASH, BASE64_END, MAX_SAFE, QUOTE, TEXT_END, TEXT_OPEN, TEXT_START, viewOf, type FixedBytes, type ChunkEncoding } from './layout.js';

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

/**
 * Byte classes of a FILE frame's text for the fast path: 0 a continuation byte, 1 a byte that
 * starts a character, 2 a backslash (an escape follows), 3 a byte JSON forbids raw (`"`, controls).
 */
const TEXT_CLASS = Uint8Array.from({ length: 256 }, (_, byte) =>
  byte === BACKSLASH ? 2 : byte === QUOTE || byte < 0x20 ? 3 : (byte & 0xc0) === 0x80 ? 0 : 1,
);
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
 * With a `kernel`, line and out must be views of its memory: the text loop runs there, 16 bytes at
 * a time, instead of four at a time here.
 */
export function parseCanonicalFile(
  line: Uint8Array, lineView: DataView, start: number, limit: number, prefix: FixedBytes,
  out: Uint8Array, outView: DataView, at: number, fields: FastFrameFields, kernel?: TextKernel,
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
  let textEnd: number;
  let dataEnd: number;
  let chars: number;
  let sawHighBytes: boolean;
  if (kernel) {
    // Addresses in the kernel's memory, of which line and out are views.
    textEnd = kernel.decodeText(line.byteOffset + textStart, line.byteOffset + scanEnd, out.byteOffset + at);
    if (textEnd < 0) return -1;
    textEnd -= line.byteOffset;
    dataEnd = kernel.outEnd - out.byteOffset;
    chars = kernel.chars;
    sawHighBytes = kernel.sawHighBytes;
  } else {
    textEnd = decodeTextWords(line, lineView, textStart, scanEnd, out, outView, at);
    if (textEnd < 0) return -1;
    dataEnd = decodedEnd;
    chars = decodedChars;
    sawHighBytes = decodedHighBytes;
  }
  if (chars !== CHUNK_CHARS || !matches(line, lineView, textEnd, limit, TEXT_END)) return -1;
  fields.utf8Unchecked = sawHighBytes;
  if (sawHighBytes && (out[at]! & 0xc0) === 0x80) return -1;
  fields.lineEnd = textEnd + TEXT_END.bytes.length - 1;
  return dataEnd;
}

/** What the last decodeTextWords decoded besides the closing quote (saves an allocation per frame). */
let decodedEnd = 0;
let decodedChars = 0;
let decodedHighBytes = false;

/**
 * The text loop four bytes at a time (the kernel's twin, for bytes outside its memory): decodes
 * the JSON string body at line[i..scanEnd) into out at `o` up to its closing quote, whose index
 * it returns, or -1 for anything but raw UTF-8 and the escapes JSON.stringify writes for ASCII.
 */
function decodeTextWords(line: Uint8Array, lineView: DataView, i: number, scanEnd: number, out: Uint8Array, outView: DataView, o: number): number {
  let chars = 0;
  let highBits = 0; // any byte ≥ 0x80 seen: only then can the text be invalid UTF-8
  let textEnd = -1;
  const wordEnd = scanEnd - 4;
  for (;;) {
    // Declared out here, not as a const in the loop: V8 ran the loop ~20 % slower that way (measured).
    let special = 0;
    while (i <= wordEnd) {
      const word = lineView.getUint32(i, true);
      special = jsonSpecialBytes(word);
      if (special !== 0) {
        // The bytes before the flagged one go as they are; the byte loop below takes it.
        const before = plainBytesBefore(special);
        if (before > 0) {
          const kept = lowBytes(word, before);
          outView.setUint32(o, kept, true);
          o += before;
          i += before;
          chars += leadBytes(kept) - (4 - before);
          highBits |= kept;
        }
        break;
      }
      outView.setUint32(o, word, true);
      o += 4;
      i += 4;
      chars += leadBytes(word);
      highBits |= word;
    }
    if (i >= scanEnd) break;
    const byte = line[i]!;
    const kind = TEXT_CLASS[byte]!;
    if (kind < 2) {
      out[o++] = byte;
      chars += kind;
      highBits |= byte;
      i++;
      continue;
    }
    if (kind === 3) {
      if (byte !== QUOTE) return -1;
      textEnd = i;
      break;
    }
    // Only the escapes JSON.stringify writes for ASCII are taken here.
    const unescaped = readEscape(line, i + 1, scanEnd);
    if (unescaped < 0) return -1;
    out[o++] = unescaped;
    chars++;
    i = escapeEnd;
  }
  if (textEnd < 0) return -1;
  decodedEnd = o;
  decodedChars = chars;
  decodedHighBytes = (highBits & 0x80808080) !== 0;
  return textEnd;
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

/** Where the last readInteger / readEscape stopped (saves an allocation per field). */
let integerEnd = 0;
let escapeEnd = 0;

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

/** The ASCII byte an escape (after its backslash) stands for, or -1 if not one we take. */
function readEscape(line: Uint8Array, at: number, end: number): number {
  if (at >= end) return -1;
  escapeEnd = at + 1;
  switch (line[at]) {
    case 0x22: return 0x22; // \"
    case 0x5c: return 0x5c; // \\
    case 0x2f: return 0x2f; // \/
    case 0x62: return 0x08; // \b
    case 0x66: return 0x0c; // \f
    case 0x6e: return 0x0a; // \n
    case 0x72: return 0x0d; // \r
    case 0x74: return 0x09; // \t
    case 0x75: { // \u00XX, ASCII only; anything else (and surrogates) is left to JSON.parse
      if (end - at < 5 || line[at + 1] !== 0x30 || line[at + 2] !== 0x30) return -1;
      const high = hexValue(line[at + 3]!);
      const low = hexValue(line[at + 4]!);
      if (high < 0 || low < 0 || high > 7) return -1;
      escapeEnd = at + 5;
      return high * 16 + low;
    }
    default: return -1;
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return -1;
}

