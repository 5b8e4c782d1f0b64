// Standard base64 (RFC 4648 §4, with padding) decoded straight between byte buffers, for the
// frames the SIMD kernel leaves to JavaScript (a frame on its own, FILE-END's padded text).
// Decoding is strict: Node's own decoder skips characters it does not know, which would let a
// corrupted frame through unnoticed.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 0x3d; // '='

const DECODE = new Int16Array(256).fill(-1);
// Pair table: two characters → 12 bits in one lookup, in the byte order of a little-endian 32-bit
// word, so that the loop reads four characters at once through a DataView.
const DECODE_PAIR = new Int16Array(65536).fill(-1);
for (let i = 0; i < 64; i++) {
  DECODE[ALPHABET.charCodeAt(i)] = i;
  for (let j = 0; j < 64; j++) DECODE_PAIR[(ALPHABET.charCodeAt(j) << 8) | ALPHABET.charCodeAt(i)] = (i << 6) | j;
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
