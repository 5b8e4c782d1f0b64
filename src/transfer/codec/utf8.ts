// UTF-8 at the byte level: the transfer never decodes a file to JavaScript strings, it counts code
// points by their lead bytes and checks validity with node:buffer's isUtf8 (SIMD, GB/s).
import { isUtf8 } from 'node:buffer';

/** True for a UTF-8 continuation byte (10xxxxxx): it never starts a code point. */
export const isContinuationByte = (byte: number): boolean => (byte & 0xc0) === 0x80;

/**
 * How many bytes at the end of bytes[0..end) belong to a sequence that is not complete yet (0 to 3):
 * a block boundary may cut a code point, and the cut part is checked with the next block.
 */
export function incompleteTailLength(bytes: Uint8Array, end = bytes.length): number {
  for (let back = 1; back <= 3 && back <= end; back++) {
    const byte = bytes[end - back]!;
    if (isContinuationByte(byte)) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? back : 0;
  }
  return 0;
}

/**
 * Checks a byte stream for UTF-8 validity block by block, carrying a sequence cut by a block
 * boundary into the next block.
 */
export class Utf8StreamCheck {
  private carry = Buffer.alloc(0);
  private valid = true;

  /** Feeds the next block; returns false as soon as the stream so far is known to be invalid. */
  push(block: Uint8Array): boolean {
    if (!this.valid) return false;
    let start = 0;
    if (this.carry.length > 0) {
      // Complete the cut sequence with at most 3 bytes of this block, then check it alone.
      const take = Math.min(4 - this.carry.length, block.length);
      const joined = Buffer.concat([this.carry, block.subarray(0, take)]);
      const tail = incompleteTailLength(joined);
      if (tail === joined.length && take === block.length) {
        this.carry = joined;
        return true;
      }
      const complete = joined.length - tail;
      if (!isUtf8(joined.subarray(0, complete))) return (this.valid = false);
      start = take - tail;
      this.carry = Buffer.alloc(0);
    }
    const tail = incompleteTailLength(block);
    const end = Math.max(start, block.length - tail);
    if (!isUtf8(block.subarray(start, end))) return (this.valid = false);
    this.carry = Buffer.from(block.subarray(end));
    return true;
  }

  /** True when every byte pushed formed complete, valid UTF-8. */
  end(): boolean {
    return this.valid && this.carry.length === 0;
  }
}

/**
 * Advances over `count` code points of valid UTF-8 in bytes[start..end). Returns the position after
 * the last one, or -1 when fewer than `count` start in that range. `count` 0 returns `start`.
 */
export function skipCodePoints(bytes: Uint8Array, start: number, end: number, count: number): number {
  let seen = 0;
  for (let i = start; i < end; i++) {
    if (!isContinuationByte(bytes[i]!)) {
      if (seen === count) return i;
      seen++;
    }
  }
  return seen === count ? end : -1;
}

/** Number of code points in valid UTF-8 bytes[start..end). */
export function countCodePoints(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let count = 0;
  for (let i = start; i < end; i++) if (!isContinuationByte(bytes[i]!)) count++;
  return count;
}

// Four bytes at a time (SWAR: SIMD within a register): the publisher's scan counts code points a
// 32-bit word at a time with a few integer operations.

/** How many of the word's four bytes start a character (are not 10xxxxxx continuation bytes). */
export function leadBytes(word: number): number {
  const continuation = word & ~(word << 1) & 0x80808080;
  return 4 - (Math.imul(continuation >>> 7, 0x01010101) >>> 24);
}
