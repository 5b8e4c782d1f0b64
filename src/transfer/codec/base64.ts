// Standard base64 (RFC 4648 §4, with padding) straight between byte buffers, so that frames are
// built and read without a JavaScript string per chunk. Decoding is strict: Node's own decoder
// skips characters it does not know, which would let a corrupted frame through unnoticed.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 0x3d; // '='

const ENCODE = new Uint8Array(64);
const DECODE = new Int16Array(256).fill(-1);
// Pair tables: two characters ⇄ 12 bits in one lookup, in the byte order of a little-endian 32-bit
// word, so that the hot loops read or write four characters at once through a DataView.
const ENCODE_PAIR = new Uint16Array(4096);
const DECODE_PAIR = new Int16Array(65536).fill(-1);
for (let i = 0; i < 64; i++) {
  ENCODE[i] = ALPHABET.charCodeAt(i);
  DECODE[ALPHABET.charCodeAt(i)] = i;
  for (let j = 0; j < 64; j++) {
    ENCODE_PAIR[(i << 6) | j] = (ALPHABET.charCodeAt(j) << 8) | ALPHABET.charCodeAt(i);
    DECODE_PAIR[(ALPHABET.charCodeAt(j) << 8) | ALPHABET.charCodeAt(i)] = (i << 6) | j;
  }
}

/** Characters of base64 for `bytes` bytes. */
export const base64Length = (bytes: number): number => Math.ceil(bytes / 3) * 4;

/**
 * Writes the base64 of src[start..end) into out at `at`; returns the position after it. srcView and
 * outView are DataViews of exactly src and out (required: default parameters made this loop half
 * as fast).
 */
export function encodeBase64Into(src: Uint8Array, srcView: DataView, start: number, end: number, out: Uint8Array, outView: DataView, at: number): number {
  let o = at;
  let i = start;
  // Three bytes are read as the top of a big-endian word: every group but one at the very end of
  // src has a fourth byte to spare.
  const wordsEnd = Math.min(end, src.length - 1);
  for (; i + 3 <= wordsEnd; i += 3) {
    const n = srcView.getUint32(i) >>> 8;
    outView.setUint32(o, ENCODE_PAIR[n >>> 12]! | (ENCODE_PAIR[n & 4095]! << 16), true);
    o += 4;
  }
  for (; i + 3 <= end; i += 3) {
    const n = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    outView.setUint32(o, ENCODE_PAIR[n >>> 12]! | (ENCODE_PAIR[n & 4095]! << 16), true);
    o += 4;
  }
  const rest = end - i;
  if (rest > 0) {
    const n = (src[i]! << 16) | (rest === 2 ? src[i + 1]! << 8 : 0);
    out[o] = ENCODE[n >>> 18]!;
    out[o + 1] = ENCODE[(n >>> 12) & 63]!;
    out[o + 2] = rest === 2 ? ENCODE[(n >>> 6) & 63]! : PAD;
    out[o + 3] = PAD;
    o += 4;
  }
  return o;
}

/**
 * Decodes the base64 text src[start..end) into out at `at`; returns the position after the decoded
 * bytes, or -1 when the text is not canonical base64 (length not a multiple of 4, a character
 * outside the alphabet, padding anywhere but the end, or non-zero bits in the padding). srcView and
 * outView are DataViews of exactly src and out.
 */
export function decodeBase64Into(src: Uint8Array, srcView: DataView, start: number, end: number, out: Uint8Array, outView: DataView, at: number): number {
  const length = end - start;
  if (length % 4 !== 0) return -1;
  if (length === 0) return at;
  const padding = src[end - 1] === PAD ? (src[end - 2] === PAD ? 2 : 1) : 0;
  const fullEnd = padding > 0 ? end - 4 : end;
  let o = at;
  // Each group's three bytes go out as the top of a big-endian word whose fourth byte the next
  // group overwrites; the last full group is written byte by byte, so nothing lands past it.
  const lastFull = fullEnd - 4;
  let i = start;
  for (; i < lastFull; i += 4) {
    const word = srcView.getUint32(i, true);
    const high = DECODE_PAIR[word & 0xffff]!;
    const low = DECODE_PAIR[word >>> 16]!;
    if ((high | low) < 0) return -1;
    outView.setUint32(o, ((high << 12) | low) << 8);
    o += 3;
  }
  if (i === lastFull) {
    const word = srcView.getUint32(i, true);
    const high = DECODE_PAIR[word & 0xffff]!;
    const low = DECODE_PAIR[word >>> 16]!;
    if ((high | low) < 0) return -1;
    const n = (high << 12) | low;
    out[o] = n >>> 16;
    out[o + 1] = (n >>> 8) & 255;
    out[o + 2] = n & 255;
    o += 3;
  }
  if (padding === 0) return o;
  const a = DECODE[src[fullEnd]!]!;
  const b = DECODE[src[fullEnd + 1]!]!;
  if ((a | b) < 0) return -1;
  if (padding === 2) {
    if ((b & 15) !== 0) return -1;
    out[o] = (a << 2) | (b >>> 4);
    return o + 1;
  }
  const c = DECODE[src[fullEnd + 2]!]!;
  if (c < 0 || (c & 3) !== 0) return -1;
  out[o] = (a << 2) | (b >>> 4);
  out[o + 1] = ((b & 15) << 4) | (c >>> 2);
  return o + 2;
}
