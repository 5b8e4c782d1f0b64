// Pages of RETRIEVE, RETRIEVE-INFOT, SEARCH-FILE and WORDS-FOUND that never exceed the datagram limit, whatever
// the registry holds. Each page is measured in encoded bytes as entries are added, keeping room for
// `next`; the cursor in `next` is the position after the last entry sent.
import type { FileEntry, FileHolder, PeerListing, RetrieveInfotReply, RetrieveReply, SearchFileReply, WordMatch, WordsFoundReply } from '../../generated/types.js';
import { MAX_RQ } from '../../protocol/index.js';
import { MAX_MATCHES, type Matches, type PeerView, type Registry } from '../../registry/index.js';
import { itself, upperBound } from '../../registry/sorted.js';
import {
  encodeAllCursor, encodeInfotCursor, encodeSearchCursor, encodeWordsCursor, fileKey, MAX_CURSOR_CHARS, positionAfter,
  type AllPosition, type InfotPosition, type SearchPosition, type WordsPosition,
} from './cursor.js';
import { listedPartBytes, matchBytes } from './encode.js';
import { infotBytes, listingBytes, retrieveBytes, searchBytes, wordsBytes } from './sizes.js';

/** Room a page keeps for `,"next":"<cursor>"` until it knows it holds the last entry. */
const NEXT_BYTES = ',"next":""'.length + MAX_CURSOR_CHARS;
/** Separator between two entries of a JSON array. */
const COMMA = 1;
/**
 * Pages are measured as if their rq were the largest: what a page lists then depends on the question
 * alone, never on its rq, so the server can keep a page's bytes for everyone who asks the same
 * (replies/kept-pages.ts). It costs a page at most nine bytes of room.
 */
const LONGEST_RQ = MAX_RQ;

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));
/** `behindNat: true` for a peer behind a NAT; nothing for one reachable directly (the field is optional). */
const natField = (peer: PeerView): { behindNat?: true } => (peer.behindNat ? { behindNat: true } : {});
/** `relayPort` for a peer that relays (RETRIEVE lists it, so NATed peers can find one). */
const relayField = (peer: PeerView): { relayPort?: number } => (peer.relayPort === undefined ? {} : { relayPort: peer.relayPort });
const nameOf = (peer: PeerView): string => peer.name;

/** RETRIEVE: peers in name order with their files; a peer whose files do not fit continues on the next page. */
export function retrievePage(registry: Registry, rq: number, from: AllPosition | undefined, limit: number): RetrieveReply {
  const names = registry.names();
  let index = from ? upperBound(names, from.peer, itself) : 0;
  let firstFile = 0;
  // A cursor inside a peer's files resumes that peer (if it is still registered).
  if (from?.file && registry.peer(from.peer)) {
    index -= 1;
    firstFile = positionAfter(registry.peer(from.peer)!.sortedFileNames(), from.file);
  }
  const peers: PeerListing[] = [];
  let used = retrieveBytes(LONGEST_RQ);
  for (; index < names.length; index++, firstFile = 0) {
    const peer = registry.peer(names[index]!)!;
    const fileNames = peer.sortedFileNames();
    const entries = peer.sortedFiles();
    const listing: PeerListing = { name: peer.name, ip: peer.ip, tcpPort: peer.tcpPort, ...natField(peer), ...relayField(peer), files: [] };
    const lastPeer = index === names.length - 1;
    let size = used + listingBytes(peer.name, peer.ip, peer.tcpPort, peer.behindNat, peer.relayPort) + (peers.length > 0 ? COMMA : 0);
    if (size + (lastPeer && firstFile >= fileNames.length ? 0 : NEXT_BYTES) > limit && peers.length > 0) {
      return { type: 'RETRIEVE', rq, peers, next: encodeAllCursor({ peer: peers.at(-1)!.name }) };
    }
    for (let f = firstFile; f < fileNames.length; f++) {
      const entry = entries[f]!;
      const grown = size + listedPartBytes(entry) + (listing.files.length > 0 ? COMMA : 0);
      const last = lastPeer && f === fileNames.length - 1;
      if (grown + (last ? 0 : NEXT_BYTES) > limit) {
        if (listing.files.length > 0) {
          peers.push(listing);
          return { type: 'RETRIEVE', rq, peers, next: encodeAllCursor({ peer: peer.name, file: fileKey(fileNames[f - 1]!) }) };
        }
        if (peers.length > 0) return { type: 'RETRIEVE', rq, peers, next: encodeAllCursor({ peer: peers.at(-1)!.name }) };
        // Alone on an empty page and still too large: only possible when --max-datagram was lowered
        // after the file was published. Skip it rather than send a datagram over the limit.
        continue;
      }
      listing.files.push(entry);
      size = grown;
    }
    peers.push(listing);
    used = size;
  }
  return { type: 'RETRIEVE', rq, peers };
}

/** RETRIEVE-INFOT: one peer's contact and a page of its files in name order. */
export function infotPage(peer: PeerView, rq: number, from: InfotPosition | undefined, limit: number): RetrieveInfotReply {
  const reply: RetrieveInfotReply = { type: 'RETRIEVE-INFOT', rq, name: peer.name, ip: peer.ip, tcpPort: peer.tcpPort, ...natField(peer), files: [] };
  const fileNames = peer.sortedFileNames();
  const entries = peer.sortedFiles();
  const start = from ? positionAfter(fileNames, from.file) : 0;
  const fixed = infotBytes(LONGEST_RQ, peer.name, peer.ip, peer.tcpPort, peer.behindNat);
  const taken = fill(fixed, limit, fileNames.length - start, (i) => entries[start + i]!, listedPartBytes, reply.files);
  if (start + taken < fileNames.length) reply.next = infotCursorAfter(entries[start + lastTaken(taken)]!);
  return reply;
}

/** SEARCH-FILE: the peers sharing `file`, in name order, with the size and hash each published. */
export function searchPage(registry: Registry, file: string, rq: number, from: SearchPosition | undefined, limit: number): SearchFileReply {
  const reply: SearchFileReply = { type: 'SEARCH-FILE', rq, file, peers: [] };
  const holders = registry.holdersOf(file);
  const start = from ? upperBound(holders, from.peer, nameOf) : 0;
  const taken = fill(searchBytes(LONGEST_RQ, file), limit, holders.length - start, (i) => holderOf(holders[start + i]!, file), listedPartBytes, reply.peers);
  if (start + taken < holders.length) reply.next = encodeSearchCursor({ peer: holders[start + lastTaken(taken)]!.name });
  return reply;
}

/**
 * WORDS-FOUND: the matching names best first (fewest words, then name order), each with its number
 * of holders, from the position after `from`, never past the MAX_MATCHES best in all.
 */
export function wordsPage(registry: Registry, matches: Matches, rq: number, from: WordsPosition | undefined, limit: number): WordsFoundReply {
  const reply: WordsFoundReply = { type: 'WORDS-FOUND', rq, files: [] };
  const listed = Math.min(matches.size, MAX_MATCHES);
  let used = wordsBytes(LONGEST_RQ);
  let rank = 0; // the place of a name among all the matches, best first
  let lastWords = 0; // the word count of the last name listed
  for (let t = 0; t < matches.tierCount && rank < listed; t++) {
    const words = matches.tierWords(t);
    if (from && words < from.words) {
      rank += matches.tierSize(t);
      continue;
    }
    const names = matches.tier(t);
    const start = from && words === from.words ? positionAfter(names, from.file) : 0;
    rank += start;
    for (let i = start; i < names.length && rank < listed; i++, rank++) {
      const match = matchOf(registry, names[i]!);
      const grown = used + matchBytes(match) + (reply.files.length > 0 ? COMMA : 0);
      if (grown + (rank === listed - 1 ? 0 : NEXT_BYTES) > limit) {
        if (reply.files.length === 0) continue; // only when --max-datagram was lowered after publishing: skip it
        reply.next = encodeWordsCursor({ words: lastWords, file: fileKey(reply.files.at(-1)!.name) });
        return reply;
      }
      reply.files.push(match);
      lastWords = words;
      used = grown;
    }
  }
  return reply;
}

/** A matching name as WORDS-FOUND lists it: its holders, and the size and hash the first holder published. */
function matchOf(registry: Registry, name: string): WordMatch {
  const holders = registry.holdersOf(name);
  const match: WordMatch = { name, holders: holders.length };
  for (const peer of holders) {
    const { size, sha256 } = peer.files.get(name)!;
    if (size === undefined && sha256 === undefined) continue;
    if (size !== undefined) match.size = size;
    if (sha256 !== undefined) match.sha256 = sha256;
    break;
  }
  return match;
}

/**
 * The RETRIEVE-INFOT cursor after an entry depends on its name alone: kept per entry, since encoding
 * one (bytes, base64url) cost more than the rest of a page together.
 */
const infotCursors = new WeakMap<FileEntry, string>();

function infotCursorAfter(entry: FileEntry): string {
  let cursor = infotCursors.get(entry);
  if (cursor === undefined) infotCursors.set(entry, (cursor = encodeInfotCursor({ file: fileKey(entry.name) })));
  return cursor;
}

/**
 * Why no page could hold this entry at `limit` (undefined when one can): the PUBLISH-time rule that
 * keeps every published file listable. Measured against the worst case of each listing: the longest
 * IP, the largest rq and port, and the longest cursor.
 */
export function unlistableReason(limit: number): (peerName: string, entry: FileEntry) => string | undefined {
  const worst = { ip: 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', tcpPort: 65535, behindNat: true, relayPort: 65535 };
  const rq = LONGEST_RQ;
  const next = 'x'.repeat(MAX_CURSOR_CHARS);
  return (peerName, entry) => {
    const needed = Math.max(
      bytes({ type: 'RETRIEVE', rq, peers: [{ name: peerName, ...worst, files: [entry] }], next }),
      bytes({ type: 'RETRIEVE-INFOT', rq, name: peerName, ...worst, files: [entry], next }),
      bytes({ type: 'SEARCH-FILE', rq, file: entry.name, peers: [{ name: peerName, ...worst, size: entry.size, sha256: entry.sha256, piecesRoot: entry.piecesRoot, chunks: entry.chunks }], next }),
      bytes({ type: 'WORDS-FOUND', rq, files: [{ name: entry.name, holders: Number.MAX_SAFE_INTEGER, size: entry.size, sha256: entry.sha256 }], next }),
    );
    if (needed <= limit) return undefined;
    return `is too long to list: a reply holding it needs ${needed} bytes, over this server's ${limit}-byte datagram limit; use a shorter name`;
  };
}

/**
 * Offset of the entry `next` points after. When not even one entry fitted (only possible when
 * --max-datagram was lowered after the file was published), it is that entry: the client skips it
 * rather than ask for the same page forever.
 */
const lastTaken = (taken: number): number => Math.max(taken, 1) - 1;

/**
 * The holder record of each published entry, built once and kept while the peer's contact stays the
 * same: a SEARCH-FILE page reuses it, and its JSON, instead of building both anew (see
 * encode.ts). A holder is never changed: a new contact gets a new one.
 */
const holders = new WeakMap<FileEntry, FileHolder>();

function holderOf(peer: PeerView, file: string): FileHolder {
  const entry = peer.files.get(file)!;
  const known = holders.get(entry);
  if (known && known.name === peer.name && known.ip === peer.ip && known.tcpPort === peer.tcpPort && (known.behindNat === true) === peer.behindNat) return known;
  const holder: FileHolder = { name: peer.name, ip: peer.ip, tcpPort: peer.tcpPort, ...natField(peer) };
  if (entry.size !== undefined) holder.size = entry.size;
  if (entry.sha256 !== undefined) holder.sha256 = entry.sha256;
  if (entry.piecesRoot !== undefined) holder.piecesRoot = entry.piecesRoot;
  if (entry.chunks !== undefined) holder.chunks = entry.chunks;
  holders.set(entry, holder);
  return holder;
}

/**
 * Appends items to `into` while the page stays within `limit` (keeping room for `next` unless the
 * item is the last); returns how many it took.
 */
function fill<T>(fixed: number, limit: number, available: number, itemAt: (i: number) => T, sizeOf: (item: T) => number, into: T[]): number {
  let used = fixed;
  for (let i = 0; i < available; i++) {
    const item = itemAt(i);
    const grown = used + sizeOf(item) + (i > 0 ? COMMA : 0);
    if (grown + (i === available - 1 ? 0 : NEXT_BYTES) > limit) return i;
    into.push(item);
    used = grown;
  }
  return available;
}
