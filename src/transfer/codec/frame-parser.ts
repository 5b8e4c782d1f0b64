// One received line → the fields of a FILE or FILE-END frame plus its decoded file bytes. The fast
// path reads FILE frames in our own canonical layout (layout.ts) byte by byte without JSON.parse;
// anything else (FILE-END, once per file, included) goes through the protocol edge (JSON.parse +
// generated validator). The fast path accepts only what the schema accepts — fewer lines, never
// more — and yields the same chunk, encoding and bytes; a property test holds it to that.
import { isUtf8 } from 'node:buffer';
import { P2fsError, type ErrorCode } from '../../errors/index.js';
import type { PieceFrame } from '../../generated/types.js';
import { decodeTcpFrame, type TcpFrame } from '../../protocol/index.js';
import { BASE64_CHUNK_BYTES, CHUNK_CHARS } from '../limits.js';
import { decodeBase64Into } from './base64.js';
import { jsonSpecialBytes, leadBytes } from './utf8.js';
import { BACKSLASH, ENCODING_BASE64, MAX_SAFE, QUOTE, TEXT_OPEN, type ChunkEncoding } from './layout.js';

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

/** What the fast path read besides the data: the chunk number and the encoding. */
export interface FastFrameFields {
  chunk: number;
  encoding: ChunkEncoding;
}

/**
 * Byte classes of a FILE frame's text for the fast path: 0 a continuation byte, 1 a byte that
 * starts a character, 2 a backslash (an escape follows), 3 a byte JSON forbids raw (`"`, controls).
 */
const TEXT_CLASS = Uint8Array.from({ length: 256 }, (_, byte) =>
  byte === BACKSLASH ? 2 : byte === QUOTE || byte < 0x20 ? 3 : (byte & 0xc0) === 0x80 ? 0 : 1,
);
const BASE64_SUFFIX = Buffer.concat([Buffer.from([QUOTE]), ENCODING_BASE64, Buffer.from('}')]);
const TEXT_SUFFIX = Buffer.from('"}');

/**
 * Parses a FILE frame in the canonical layout, whose bytes up to the chunk number must be exactly
 * `prefix` (`{"type":"FILE","rq":R,"file":F,"chunk":`, known to the downloader). Decodes its data
 * into out at `at` and returns where the data ends, filling `fields`; returns -1 when the line is
 * anything else, laid out otherwise, or doubtful (the slow path then accepts it or says why not).
 */
export function parseCanonicalFile(
  line: Uint8Array, lineView: DataView, start: number, end: number, prefix: Uint8Array,
  out: Uint8Array, outView: DataView, at: number, fields: FastFrameFields,
): number {
  if (!matches(line, start, end, prefix)) return -1;
  const chunk = readInteger(line, start + prefix.length, end, MAX_SAFE);
  if (chunk < 1) return -1;
  const textStart = integerEnd + TEXT_OPEN.length;
  if (!matches(line, integerEnd, end, TEXT_OPEN)) return -1;
  fields.chunk = chunk;

  if (matches(line, end - BASE64_SUFFIX.length, end, BASE64_SUFFIX)) {
    // 200 characters of base64 = 150 bytes; the decoder refuses anything outside the alphabet,
    // which includes every escape and raw control character.
    const textEnd = end - BASE64_SUFFIX.length;
    if (textEnd - textStart !== CHUNK_CHARS) return -1;
    fields.encoding = 'base64';
    const dataEnd = decodeBase64Into(line, textStart, textEnd, out, at);
    return dataEnd - at === BASE64_CHUNK_BYTES ? dataEnd : -1;
  }
  if (!matches(line, end - TEXT_SUFFIX.length, end, TEXT_SUFFIX)) return -1;
  const textEnd = end - TEXT_SUFFIX.length;
  if (textEnd < textStart) return -1;
  fields.encoding = 'utf8';
  let o = at;
  let chars = 0;
  let highBits = 0; // any byte ≥ 0x80 seen: only then can the text be invalid UTF-8
  let i = textStart;
  while (i < textEnd) {
    if (i + 4 <= textEnd) {
      const word = lineView.getUint32(i, true);
      if (jsonSpecialBytes(word) === 0) {
        outView.setUint32(o, word, true);
        o += 4;
        i += 4;
        chars += leadBytes(word);
        highBits |= word;
        continue;
      }
    }
    const byte = line[i]!;
    const kind = TEXT_CLASS[byte]!;
    if (kind < 2) {
      out[o++] = byte;
      chars += kind;
      highBits |= byte;
      i++;
      continue;
    }
    if (kind === 3) return -1;
    // Only the escapes JSON.stringify writes for ASCII are taken here; a backslash just before the
    // closing quote means the quote was escaped and the text does not end where it seemed to.
    const unescaped = readEscape(line, i + 1, textEnd);
    if (unescaped < 0) return -1;
    out[o++] = unescaped;
    chars++;
    i = escapeEnd;
  }
  if (chars !== CHUNK_CHARS) return -1;
  if ((highBits & 0x80808080) !== 0 && !isUtf8(out.subarray(at, o))) return -1;
  return o;
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
    dataEnd = decodeBase64Into(out, at, at + written, out, at);
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

function matches(line: Uint8Array, at: number, end: number, expected: Uint8Array): boolean {
  if (at < 0 || end - at < expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (line[at + i] !== expected[i]) return false;
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

