// Pages of RETRIEVE, RETRIEVE-INFOT, SEARCH-FILE and WORDS-FOUND as bytes, assembled in the key order paging.ts
// builds them in, from the kept JSON of their entries.
//
// JSON.stringify on Node 20 looks at every character for escapes (~5 ns each), and most of a page is
// file entries and holders that stay the same from one request to the next. Their JSON is kept with
// them, in a WeakMap on the objects themselves: byte for byte what JSON.stringify gives
// (test/server/page-encode.test.ts). That holds because a listed part is never changed once built:
// the registry replaces a FileEntry rather than edit it, and paging builds a new FileHolder when a
// peer's contact changes.
import type { UdpReply } from '../../generated/catalogue.js';
import type { FileEntry, FileHolder, PeerListing, RetrieveInfotReply, RetrieveReply, SearchFileReply, WordMatch, WordsFoundReply } from '../../generated/types.js';

/** A part of a page whose JSON is kept: never mutate one after it has been encoded or measured. */
export type ListedPart = FileEntry | FileHolder;

export type Page = SearchFileReply | RetrieveInfotReply | RetrieveReply | WordsFoundReply;

/**
 * A part's JSON, with its UTF-8 size when that differs from its length. Nearly every part is ASCII
 * and is kept as the bare string: a record beside it cost 32 bytes per listed part (a million files
 * listed both ways hold two million parts).
 */
type Kept = string | { json: string; bytes: number };

const kept = new WeakMap<ListedPart, Kept>();

function keptPart(part: ListedPart): Kept {
  let encoded = kept.get(part);
  if (encoded === undefined) {
    const json = JSON.stringify(part);
    const bytes = Buffer.byteLength(json);
    kept.set(part, (encoded = bytes === json.length ? json : { json, bytes }));
  }
  return encoded;
}

const partJson = (part: ListedPart): string => {
  const encoded = keptPart(part);
  return typeof encoded === 'string' ? encoded : encoded.json;
};

/** UTF-8 bytes of a listed part's JSON (paging measures pages entry by entry). */
export const listedPartBytes = (part: ListedPart): number => {
  const encoded = keptPart(part);
  return typeof encoded === 'string' ? encoded.length : encoded.bytes;
};

/** A page's bytes: exactly JSON.stringify's. */
export function encodePage(page: Page): Buffer {
  switch (page.type) {
    case 'SEARCH-FILE':
      return Buffer.from(searchFileJson(page));
    case 'RETRIEVE-INFOT':
      return Buffer.from(retrieveInfotJson(page));
    case 'RETRIEVE':
      return Buffer.from(retrieveJson(page));
    case 'WORDS-FOUND':
      return Buffer.from(wordsFoundJson(page));
  }
}

/**
 * Any other reply's bytes within `limit`, the last line of defence for "no reply exceeds the limit":
 * a refusal quoting long values gets its reason shortened. Undefined for anything else over the
 * limit, which is a bug (paging measures every page).
 */
export function encodeReply(reply: UdpReply, limit: number): Buffer | undefined {
  const bytes = Buffer.from(JSON.stringify(reply));
  if (bytes.length <= limit) return bytes;
  if (!('reason' in reply)) return undefined;
  const chars = [...reply.reason];
  for (let keep = chars.length - 1; keep > 0; keep--) {
    const shortened = Buffer.from(JSON.stringify({ ...reply, reason: `${chars.slice(0, keep).join('')}…` }));
    if (shortened.length <= limit) return shortened;
  }
  return undefined;
}

/** Printable ASCII but `"` and `\\`: JSON quotes such a string as it is. */
const NEEDS_NO_ESCAPE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A string as JSON, quotes included; most names need no escaping and skip JSON.stringify's scan. */
const jsonString = (s: string): string => (NEEDS_NO_ESCAPE.test(s) ? `"${s}"` : JSON.stringify(s));

/** UTF-8 bytes of a string as JSON encodes it, quotes included. */
export const jsonStringBytes = (s: string): number => (NEEDS_NO_ESCAPE.test(s) ? s.length + 2 : Buffer.byteLength(JSON.stringify(s)));

const searchFileJson = (r: SearchFileReply): string =>
  `{"type":"SEARCH-FILE","rq":${r.rq},"file":${jsonString(r.file)},"peers":[${partsJson(r.peers)}]${nextJson(r.next)}}`;

const retrieveInfotJson = (r: RetrieveInfotReply): string =>
  `{"type":"RETRIEVE-INFOT","rq":${r.rq},"name":${jsonString(r.name)},"ip":${jsonString(r.ip)},"tcpPort":${r.tcpPort},${natJson(r.behindNat)}` +
  `"files":[${partsJson(r.files)}]${nextJson(r.next)}}`;

const wordsFoundJson = (r: WordsFoundReply): string => `{"type":"WORDS-FOUND","rq":${r.rq},"files":[${r.files.map(matchJson).join(',')}]${nextJson(r.next)}}`;

/**
 * A WORDS-FOUND entry's JSON. Not kept like a listed part's: an entry is built for each answer (its
 * holders count changes), so keeping it would only grow the WeakMap, and cost ~10 µs a query at a
 * million files.
 */
const matchJson = (match: WordMatch): string => JSON.stringify(match);

/** UTF-8 bytes of a WORDS-FOUND entry's JSON. */
export const matchBytes = (match: WordMatch): number => Buffer.byteLength(matchJson(match));

const retrieveJson = (r: RetrieveReply): string => `{"type":"RETRIEVE","rq":${r.rq},"peers":[${r.peers.map(listingJson).join(',')}]${nextJson(r.next)}}`;

const listingJson = (p: PeerListing): string =>
  `{"name":${jsonString(p.name)},"ip":${jsonString(p.ip)},"tcpPort":${p.tcpPort},${natJson(p.behindNat)}${p.relayPort === undefined ? '' : `"relayPort":${p.relayPort},`}"files":[${partsJson(p.files)}]}`;

/** Pages say `behindNat` only when it is true: absent means reachable at the listed address. */
const natJson = (behindNat: boolean | undefined): string => (behindNat === undefined ? '' : `"behindNat":${behindNat},`);

const nextJson = (next: string | undefined): string => (next === undefined ? '' : `,"next":${jsonString(next)}`);

function partsJson(parts: readonly ListedPart[]): string {
  let json = '';
  for (let i = 0; i < parts.length; i++) json += i === 0 ? partJson(parts[i]!) : `,${partJson(parts[i]!)}`;
  return json;
}
