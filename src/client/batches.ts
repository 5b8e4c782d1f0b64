// Splits a long file list into requests that each fit one datagram. The server refuses a datagram
// over its limit without a word, so the client measures the encoded bytes before it sends.
import { MAX_RQ } from '../protocol/index.js';
import { IndexClientError } from './errors.js';

/** The schema's cap on `files` per PUBLISH or REMOVE. */
export const MAX_FILES_PER_REQUEST = 1024;


/**
 * Groups `items` so that `{...base, rq, files: group}` encodes to at most `maxBytes` bytes.
 * Throws TOO_LARGE naming the item when one cannot fit even alone.
 */
export function splitIntoBatches<T>(
  base: Record<string, unknown>,
  items: readonly T[],
  maxBytes: number,
  describe: (item: T) => string,
): T[][] {
  // Measured with the widest rq, so a batch measured now fits whatever rq it is sent with.
  const emptyBytes = Buffer.byteLength(JSON.stringify({ ...base, rq: MAX_RQ, files: [] }));
  const batches: T[][] = [];
  let current: T[] = [];
  let currentBytes = emptyBytes;
  for (const item of items) {
    const itemBytes = Buffer.byteLength(JSON.stringify(item));
    if (emptyBytes + itemBytes > maxBytes) {
      throw new IndexClientError(
        'TOO_LARGE',
        `${describe(item)} does not fit in one ${maxBytes}-byte datagram even on its own (${emptyBytes + itemBytes} bytes); shorten its name`,
        String(base.type),
      );
    }
    // Every item after the first costs a comma too.
    const cost = itemBytes + (current.length > 0 ? 1 : 0);
    if (current.length === MAX_FILES_PER_REQUEST || currentBytes + cost > maxBytes) {
      batches.push(current);
      current = [];
      currentBytes = emptyBytes;
    }
    currentBytes += itemBytes + (current.length > 0 ? 1 : 0);
    current.push(item);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
