// What a peer publishes about a file, found in one streamed pass: its size, its SHA-256 and
// whether it is valid UTF-8 (the file server's hint for choosing text or base64 frames).
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Utf8StreamCheck } from './codec/utf8.js';
import { SCAN_BLOCK_BYTES } from './limits.js';

export interface FileFacts {
  size: number;
  sha256: string;
  utf8: boolean;
}

/** Reads the file once, block by block (never whole into memory). */
export async function inspectFile(path: string): Promise<FileFacts> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const utf8 = new Utf8StreamCheck();
    const buffer = Buffer.allocUnsafe(SCAN_BLOCK_BYTES);
    let valid = true;
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, SCAN_BLOCK_BYTES, size);
      if (bytesRead === 0) break;
      const block = buffer.subarray(0, bytesRead);
      hash.update(block);
      if (valid) valid = utf8.push(block);
      size += bytesRead;
    }
    return { size, sha256: hash.digest('hex'), utf8: valid && utf8.end() };
  } finally {
    await handle.close();
  }
}
