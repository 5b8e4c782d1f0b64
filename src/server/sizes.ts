// Encoded sizes of reply parts, computed without encoding them: a page is measured entry by entry on
// the hot path, and JSON.stringify of every entry (then of the whole page again) cost more than the
// rest of a SEARCH-FILE together. Peer names, IPs, ports, sizes and hashes are ASCII without escapes,
// so their JSON length is arithmetic; file names go through JSON.stringify once, as a string.
// test/server/sizes.test.ts checks every function against Buffer.byteLength(JSON.stringify(…)).
import type { FileEntry } from '../generated/types.js';

/** UTF-8 bytes of a string as JSON encodes it, quotes included. */
export const jsonStringBytes = (s: string): number => Buffer.byteLength(JSON.stringify(s));

const digits = (n: number): number => String(n).length;

/** `,"size":N` and `,"sha256":"…"` when present. */
const extras = (e: { size?: number; sha256?: string }): number =>
  (e.size === undefined ? 0 : 8 + digits(e.size)) + (e.sha256 === undefined ? 0 : 12 + e.sha256.length);

/** `{"name":"…","size":N,"sha256":"…"}` */
export const fileEntryBytes = (entry: FileEntry): number => 9 + jsonStringBytes(entry.name) + extras(entry);

/** `{"name":"peer","ip":"…","tcpPort":N,"size":N,"sha256":"…"}` (a FileHolder); `name` and `ip` need no escaping. */
export const holderBytes = (name: string, ip: string, tcpPort: number, entry: { size?: number; sha256?: string }): number =>
  30 + name.length + ip.length + digits(tcpPort) + extras(entry);

/** `{"name":"peer","ip":"…","tcpPort":N,"files":[]}` (a PeerListing with no files yet). */
export const listingBytes = (name: string, ip: string, tcpPort: number): number => 41 + name.length + ip.length + digits(tcpPort);

/** `{"type":"RETRIEVE","rq":N,"peers":[]}` */
export const retrieveBytes = (rq: number): number => 36 + digits(rq);

/** `{"type":"RETRIEVE-INFOT","rq":N,"name":"peer","ip":"…","tcpPort":N,"files":[]}` */
export const infotBytes = (rq: number, name: string, ip: string, tcpPort: number): number =>
  71 + digits(rq) + name.length + ip.length + digits(tcpPort);

/** `{"type":"SEARCH-FILE","rq":N,"file":"…","peers":[]}` */
export const searchBytes = (rq: number, file: string): number => 47 + digits(rq) + jsonStringBytes(file);
