// One received line → the fields of a FILE or FILE-END frame plus its decoded file bytes. The fast
// path reads our own canonical layout (layout.ts) byte by byte without JSON.parse; anything else
// goes through the protocol edge (JSON.parse + generated validator). The fast path accepts only
// what the schema accepts — fewer lines, never more — and yields the same fields and bytes; a
// property test holds it to that.
import { isUtf8 } from 'node:buffer';
import { decodeTcpFrame, type TcpFrame } from '../../protocol/index.js';
import { BASE64_CHUNK_BYTES, CHUNK_CHARS } from '../limits.js';
import { decodeBase64Into } from './base64.js';
import {
  BACKSLASH, CHUNK_KEY, ENCODING_BASE64, FILE_END_OPEN, FILE_KEY, FILE_OPEN, MAX_RQ, MAX_SAFE, QUOTE,
  SHA256_OPEN, SIZE_KEY, TEXT_OPEN, type ChunkEncoding,
} from './layout.js';

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
export class FrameRejected extends Error {
  override readonly name = 'FrameRejected';
  constructor(
    message: string,
    /** The frame was a DOWNLOAD-ERROR: the holder refused, it did not break the protocol. */
    readonly refusal?: { rq: number | null; reason: string },
  ) {
    super(message);
  }
}

/**
 * Parses a line in the canonical layout. Returns null when the line is laid out any other way, or
 * when anything about it is doubtful (the slow path then accepts it or says why not). `file` is the
 * name the caller expects, as the JSON bytes the sender would write for it.
 */
export function parseCanonicalFrame(
  line: Uint8Array, start: number, end: number, fileJson: Uint8Array, file: string, out: Uint8Array, at: number,
): DataFrame | null {
  let p: number;
  let type: 'FILE' | 'FILE-END';
  if (matches(line, start, end, FILE_OPEN)) {
    type = 'FILE';
    p = start + FILE_OPEN.length;
  } else if (matches(line, start, end, FILE_END_OPEN)) {
    type = 'FILE-END';
    p = start + FILE_END_OPEN.length;
  } else {
    return null;
  }
  const rq = readInteger(line, p, end, MAX_RQ);
  if (rq < 0) return null;
  p = integerEnd;
  if (!matches(line, p, end, FILE_KEY) || !matches(line, p + FILE_KEY.length, end, fileJson)) return null;
  p += FILE_KEY.length + fileJson.length;
  if (!matches(line, p, end, CHUNK_KEY)) return null;
  const chunk = readInteger(line, p + CHUNK_KEY.length, end, MAX_SAFE);
  if (chunk < 1) return null;
  p = integerEnd;
  if (!matches(line, p, end, TEXT_OPEN)) return null;
  p += TEXT_OPEN.length;

  // The text, unescaped into out. Only the escapes JSON.stringify writes for ASCII are taken here.
  let o = at;
  let escaped = false;
  for (;; p++) {
    if (p >= end) return null;
    const byte = line[p]!;
    if (byte === QUOTE) break;
    if (byte < 0x20) return null;
    if (byte !== BACKSLASH) {
      out[o++] = byte;
      continue;
    }
    escaped = true;
    const unescaped = readEscape(line, p + 1, end);
    if (unescaped < 0) return null;
    out[o++] = unescaped;
    p = escapeEnd - 1;
  }
  p++; // the closing quote

  let encoding: ChunkEncoding = 'utf8';
  if (matches(line, p, end, ENCODING_BASE64)) {
    encoding = 'base64';
    p += ENCODING_BASE64.length;
  }
  let size: number | undefined;
  let sha256: string | undefined;
  if (type === 'FILE-END') {
    if (!matches(line, p, end, SIZE_KEY)) return null;
    size = readInteger(line, p + SIZE_KEY.length, end, MAX_SAFE);
    if (size < 0) return null;
    p = integerEnd;
    if (!matches(line, p, end, SHA256_OPEN) || end - p < SHA256_OPEN.length + 65) return null;
    p += SHA256_OPEN.length;
    for (let i = p; i < p + 64; i++) if (!isLowerHex(line[i]!)) return null;
    sha256 = Buffer.from(line.buffer, line.byteOffset + p, 64).toString('latin1');
    p += 64;
    if (line[p] !== QUOTE) return null;
    p++;
  }
  if (p + 1 !== end || line[p] !== 0x7d) return null; // `}` and nothing after it

  let dataEnd: number;
  if (encoding === 'base64') {
    // Base64 text never needs an escape; a frame that has one was not written by JSON.stringify.
    const chars = o - at;
    if (escaped || chars > CHUNK_CHARS || (type === 'FILE' && chars !== CHUNK_CHARS)) return null;
    dataEnd = decodeBase64Into(out, at, o, out, at);
    if (dataEnd < 0 || (type === 'FILE' && dataEnd - at !== BASE64_CHUNK_BYTES)) return null;
  } else {
    const chars = countLeadBytes(out, at, o);
    if (chars > CHUNK_CHARS || (type === 'FILE' && chars !== CHUNK_CHARS)) return null;
    if (!isUtf8(out.subarray(at, o))) return null;
    dataEnd = o;
  }
  return size === undefined
    ? { type, rq, file, chunk, encoding, dataEnd }
    : { type, rq, file, chunk, encoding, dataEnd, size, sha256: sha256! };
}

/**
 * Parses any line through the protocol edge (JSON.parse + generated validator) and decodes its text
 * into out at `at`. Throws FrameRejected with the reason when the line is not a usable data frame.
 */
export function parseFrameSlow(line: Uint8Array, out: Uint8Array, at: number): DataFrame {
  let frame: TcpFrame;
  try {
    frame = decodeTcpFrame(line);
  } catch (error) {
    throw new FrameRejected((error as Error).message);
  }
  if (frame.type === 'DOWNLOAD-ERROR') {
    throw new FrameRejected(`holder refused: ${frame.reason}`, { rq: frame.rq, reason: frame.reason });
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
  if (end - at < expected.length) return false;
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

const isLowerHex = (byte: number): boolean => (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66);

function countLeadBytes(bytes: Uint8Array, start: number, end: number): number {
  let count = 0;
  for (let i = start; i < end; i++) if ((bytes[i]! & 0xc0) !== 0x80) count++;
  return count;
}
