// Network: every registered peer (RETRIEVE-ALL, every page), one peer's details (RETRIEVE-INFOT),
// who shares a file (SEARCH-FILE), files by words (SEARCH-WORDS), and every file on the network,
// one row per name, paged and sorted here. Each waits for the index server at most as long as a
// person should (answer-deadline.ts).
import type { PeerListing } from '../../generated/types.js';
import { fromIndexServer } from '../answer-deadline.js';
import type { Handler } from '../context.js';
import { badRequest } from '../errors.js';
import { checkFileName, checkPeerName } from '../security.js';

/** GET /api/peers */
export const listPeers: Handler = async ({ peer }) => ({ body: { self: peer.name, peers: await fromIndexServer(peer, peer.listPeers()) } });

/** GET /api/peers/NAME */
export const peerDetails: Handler = async ({ peer }, { params }) => {
  const name = checkPeerName(params[0], 'name');
  return { body: { self: peer.name, peer: await fromIndexServer(peer, peer.peerInfo(name)) } };
};

/** GET /api/search?file=NAME (SEARCH-FILE, every page) */
export const searchFile: Handler = async ({ peer }, { url }) => {
  const file = checkFileName(url.searchParams.get('file') ?? undefined, 'file');
  return { body: { file, self: peer.name, holders: await fromIndexServer(peer, peer.search(file)) } };
};

/** Longest word query the page sends (the protocol's limit). */
const MAX_QUERY_CHARS = 255;

/** GET /api/words?q=WORDS (SEARCH-WORDS, every page): files best match first, each with its holders count. */
export const searchWords: Handler = async ({ peer }, { url }) => {
  const words = (url.searchParams.get('q') ?? '').trim();
  if (words === '' || [...words].length > MAX_QUERY_CHARS) throw badRequest('q', `q must be 1 to ${MAX_QUERY_CHARS} characters of words to look for`);
  return { body: { words, self: peer.name, files: await fromIndexServer(peer, peer.findWords(words)) } };
};

export interface NetworkFile {
  name: string;
  /** Peers sharing it, in name order. */
  holders: string[];
  size: number | null;
  sha256: string | null;
}

const SORTS = {
  name: (a: NetworkFile, b: NetworkFile) => compare(a.name, b.name),
  size: (a: NetworkFile, b: NetworkFile) => (a.size ?? -1) - (b.size ?? -1) || compare(a.name, b.name),
  holders: (a: NetworkFile, b: NetworkFile) => a.holders.length - b.holders.length || compare(a.name, b.name),
} as const;
type SortKey = keyof typeof SORTS;
export const DEFAULT_PER_PAGE = 25;
const MAX_PER_PAGE = 200;

/**
 * GET /api/network-files?sort=name|size|holders&order=asc|desc&page=N&per=N: every file any peer
 * shares, one row per name (RETRIEVE-ALL, every page), sorted, one page of it.
 */
export const networkFiles: Handler = async ({ peer }, { url }) => {
  const sort = url.searchParams.get('sort') ?? 'name';
  if (!Object.hasOwn(SORTS, sort)) throw badRequest('sort', `sort must be one of ${Object.keys(SORTS).join(', ')}`);
  const order = url.searchParams.get('order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw badRequest('order', 'order must be asc or desc');
  const page = whole(url.searchParams.get('page'), 'page', 1, Number.MAX_SAFE_INTEGER) ?? 1;
  const per = whole(url.searchParams.get('per'), 'per', 1, MAX_PER_PAGE) ?? DEFAULT_PER_PAGE;
  const files = byName(await fromIndexServer(peer, peer.listPeers())).sort(SORTS[sort as SortKey]);
  if (order === 'desc') files.reverse();
  const pages = Math.max(1, Math.ceil(files.length / per));
  return { body: { self: peer.name, sort, order, page, per, pages, total: files.length, files: files.slice((page - 1) * per, page * per) } };
};

/** One row per file name: its holders, and the size and hash the first of them published. */
function byName(peers: readonly PeerListing[]): NetworkFile[] {
  const files = new Map<string, NetworkFile>();
  for (const listing of [...peers].sort((a, b) => compare(a.name, b.name))) {
    for (const entry of listing.files) {
      const file = files.get(entry.name) ?? { name: entry.name, holders: [], size: null, sha256: null };
      file.holders.push(listing.name);
      if (file.size === null && entry.size !== undefined) file.size = entry.size;
      if (file.sha256 === null && entry.sha256 !== undefined) file.sha256 = entry.sha256;
      files.set(entry.name, file);
    }
  }
  return [...files.values()];
}

function whole(value: string | null, field: string, min: number, max: number): number | undefined {
  if (value === null || value === '') return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw badRequest(field, `${field} must be a whole number from ${min} to ${max}`);
  return n;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
