// Streamed SHA-256: a file of any size is hashed in 64 KiB reads, never held in memory whole.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Read size for hashing: large enough to keep the disk busy, small enough to stay out of RSS. */
const HASH_READ_BYTES = 64 * 1024;

export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: HASH_READ_BYTES })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest('hex'), bytes };
}
