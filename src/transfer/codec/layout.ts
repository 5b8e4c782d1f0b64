// The canonical byte layout of FILE frames: what our encoder writes and what the
// receiver's fast path recognises without JSON.parse. Field order follows the spec's listing:
//
//   {"type":"FILE","rq":7,"file":"a.txt","chunk":1,"text":"…"}
//   {"type":"FILE","rq":7,"file":"a.bin","chunk":1,"text":"…","encoding":"base64"}
//
// Text is escaped exactly as JSON.stringify escapes it, so a frame built either way is the same
// bytes (the SIMD kernel, ../simd/text-kernel.wat, writes and reads it). FILE-END, once per file,
// is built with JSON.stringify and read with JSON.parse.

/** How a file's bytes travel: as its own UTF-8 text, or base64 when it is not valid UTF-8. */
export type ChunkEncoding = 'utf8' | 'base64';

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');

export const FILE_OPEN = ascii('{"type":"FILE","rq":');
export const FILE_KEY = ascii(',"file":');
export const CHUNK_KEY = ascii(',"chunk":');
export const TEXT_OPEN = ascii(',"text":"');
export const ENCODING_BASE64 = ascii(',"encoding":"base64"');
export const FILE_CLOSE = ascii('}\n');

export const QUOTE = 0x22;
export const NEWLINE = 0x0a;

/** Fixed bytes of the canonical layout (a prefix, a suffix) the fast path compares a word at a time, with a view of them. */
export interface FixedBytes {
  bytes: Uint8Array;
  view: DataView;
}

/** A DataView of exactly these bytes: the hot loops read and write whole words through it. */
export const viewOf = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export const withView = (bytes: Uint8Array): FixedBytes => ({ bytes, view: viewOf(bytes) });

/** `,"text":"`, where every FILE frame's text starts, as fixed bytes. */
export const TEXT_START = withView(TEXT_OPEN);

/** How a FILE frame ends after its text: `"}` and the newline, with the encoding field before `}` for base64. */
export const TEXT_END = withView(Buffer.concat([Buffer.from([QUOTE]), FILE_CLOSE]));
export const BASE64_END = withView(Buffer.concat([Buffer.from([QUOTE]), ENCODING_BASE64, FILE_CLOSE]));

/** How every FILE frame answering DOWNLOAD rq for `file` (NFC) starts: `{"type":"FILE","rq":R,"file":F,"chunk":`. */
export const canonicalPrefix = (rq: number, file: string): FixedBytes =>
  withView(Buffer.concat([FILE_OPEN, Buffer.from(String(rq)), FILE_KEY, Buffer.from(JSON.stringify(file)), CHUNK_KEY]));

/** Largest chunk number (2^53-1) the schemas allow. */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Copies `bytes` into out at `at`; returns the position after. */
export function writeBytes(out: Uint8Array, at: number, bytes: Uint8Array): number {
  out.set(bytes, at);
  return at + bytes.length;
}
