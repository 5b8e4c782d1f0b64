// Paging cursors. Opaque to clients (base64url); to us, a position in name order: "after this peer",
// "after this file". Positions, not offsets, so a client following `next` sees every peer that stayed
// registered during its scan exactly once, however many others register or leave meanwhile.
import { createHash } from 'node:crypto';
import { itself, lowerBound, upperBound } from '../../registry/sorted.js';

/** Where a listing of files resumes: after the file with this name. */
export type FileKey =
  | { exact: string }
  // A long name is carried as a prefix and a hash: cursors stay short whatever the name's length.
  | { prefix: string; hash: string };

export type AllPosition = { peer: string; file?: FileKey };
export type InfotPosition = { file: FileKey };
export type SearchPosition = { peer: string };
/** Where a word search resumes: after this file among the names with this many words (its rank). */
export type WordsPosition = { words: number; file: FileKey };

/** Names up to this many UTF-8 bytes travel whole in a cursor; longer ones as a prefix of it and a hash. */
const FILE_KEY_MAX_BYTES = 48;
const HASH_CHARS = 11; // 64 bits of SHA-256, base64url: enough to tell apart names sharing a 48-byte prefix
const PEER_NAME = /^[A-Za-z0-9._-]{1,32}$/;
const HASH = /^[A-Za-z0-9_-]{11}$/;
const SEPARATOR = '\u0000'; // no peer name or file name contains NUL

const KIND = { all: 'A', infot: 'I', search: 'S', words: 'W' } as const;
/** A rank in a cursor: a name's number of words (a name of 255 characters holds at most 128). */
const RANK = /^[1-9][0-9]{0,2}$/;

/** Longest cursor we emit (a RETRIEVE cursor: peer name, prefix, hash): paging reserves this much. */
export const MAX_CURSOR_CHARS = Math.ceil(((1 + 32 + 1 + FILE_KEY_MAX_BYTES + 1 + HASH_CHARS) * 4) / 3);

export const CURSOR_REASON = 'cursor must be a `next` value this server returned for the same kind of request, unchanged';

export function fileKey(name: string): FileKey {
  if (Buffer.byteLength(name) <= FILE_KEY_MAX_BYTES) return { exact: name };
  let prefix = '';
  for (const char of name) {
    if (Buffer.byteLength(prefix + char) > FILE_KEY_MAX_BYTES) break;
    prefix += char;
  }
  return { prefix, hash: nameHash(name) };
}

/** Index in `sorted` of the first name after `key`. */
export function positionAfter(sorted: readonly string[], key: FileKey): number {
  if ('exact' in key) return upperBound(sorted, key.exact, itself);
  // Every name between the prefix and the key's name starts with the prefix: walk that run for the hash.
  const start = lowerBound(sorted, key.prefix, itself);
  for (let i = start; i < sorted.length && sorted[i]!.startsWith(key.prefix); i++) {
    if (nameHash(sorted[i]!) === key.hash) return i + 1;
  }
  // The name was removed mid-scan: resend the run sharing its prefix (duplicates are visible, gaps are not).
  return start;
}

export const encodeAllCursor = (p: AllPosition): string => encode(KIND.all, [p.peer, ...(p.file ? keyParts(p.file) : [])]);
export const encodeInfotCursor = (p: InfotPosition): string => encode(KIND.infot, keyParts(p.file));
export const encodeSearchCursor = (p: SearchPosition): string => encode(KIND.search, [p.peer]);
export const encodeWordsCursor = (p: WordsPosition): string => encode(KIND.words, [String(p.words), ...keyParts(p.file)]);

/** The position a cursor names, or undefined when it is not one this server could have sent. */
export function decodeAllCursor(cursor: string): AllPosition | undefined {
  const parts = decode(cursor, KIND.all);
  if (!parts || parts.length > 3 || !PEER_NAME.test(parts[0]!)) return undefined;
  if (parts.length === 1) return { peer: parts[0]! };
  const file = keyFrom(parts.slice(1));
  return file && { peer: parts[0]!, file };
}

export function decodeInfotCursor(cursor: string): InfotPosition | undefined {
  const parts = decode(cursor, KIND.infot);
  const file = parts && keyFrom(parts);
  return file && { file };
}

export function decodeSearchCursor(cursor: string): SearchPosition | undefined {
  const parts = decode(cursor, KIND.search);
  return parts?.length === 1 && PEER_NAME.test(parts[0]!) ? { peer: parts[0]! } : undefined;
}

export function decodeWordsCursor(cursor: string): WordsPosition | undefined {
  const parts = decode(cursor, KIND.words);
  if (!parts || !RANK.test(parts[0]!)) return undefined;
  const file = keyFrom(parts.slice(1));
  return file && { words: Number(parts[0]), file };
}

function nameHash(name: string): string {
  return createHash('sha256').update(name).digest('base64url').slice(0, HASH_CHARS);
}

const keyParts = (key: FileKey): string[] => ('exact' in key ? [key.exact] : [key.prefix, key.hash]);

function keyFrom(parts: string[]): FileKey | undefined {
  if (parts.length === 1 && parts[0] !== '' && Buffer.byteLength(parts[0]!) <= FILE_KEY_MAX_BYTES) return { exact: parts[0]! };
  if (parts.length === 2 && parts[0] !== '' && HASH.test(parts[1]!)) return { prefix: parts[0]!, hash: parts[1]! };
  return undefined;
}

function encode(kind: string, parts: string[]): string {
  return Buffer.from(kind + parts.join(SEPARATOR)).toString('base64url');
}

function decode(cursor: string, kind: string): string[] | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (text[0] !== kind) return undefined;
  const parts = text.slice(1).split(SEPARATOR);
  // Only a cursor we would have written decodes: no stray bits, no invalid UTF-8, no padding variants.
  return encode(kind, parts) === cursor ? parts : undefined;
}
