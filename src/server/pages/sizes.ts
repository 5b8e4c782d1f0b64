// Encoded sizes of the fixed frame of each page, computed without encoding it: a page is measured on
// the hot path (its entries by their kept JSON, see encode.ts). Peer names, IPs, ports and
// rqs are ASCII without escapes, so their JSON length is arithmetic; file names go through
// JSON.stringify once, as a string. test/server/pages-sizes.test.ts checks every function against
// Buffer.byteLength(JSON.stringify(…)).

import { jsonStringBytes } from './encode.js';

/** Decimal digits of a non-negative integer (what JSON writes for it): arithmetic, no string made. */
export function decimalDigits(n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** `"behindNat":true,`: listed only for peers behind a NAT (absent means reachable directly). */
const BEHIND_NAT_BYTES = 17;
const natBytes = (behindNat: boolean): number => (behindNat ? BEHIND_NAT_BYTES : 0);

/** `{"name":"peer","ip":"…","tcpPort":N,"behindNat":true,"files":[]}` (a PeerListing with no files yet). */
export const listingBytes = (name: string, ip: string, tcpPort: number, behindNat = false, relayPort?: number): number =>
  41 + name.length + ip.length + decimalDigits(tcpPort) + natBytes(behindNat) + (relayPort === undefined ? 0 : RELAY_PORT_BYTES + decimalDigits(relayPort));

/** `"relayPort":` and the comma after the number. */
const RELAY_PORT_BYTES = 13;

/** `{"type":"RETRIEVE","rq":N,"peers":[]}` */
export const retrieveBytes = (rq: number): number => 36 + decimalDigits(rq);

/** `{"type":"RETRIEVE-INFOT","rq":N,"name":"peer","ip":"…","tcpPort":N,"behindNat":true,"files":[]}` */
export const infotBytes = (rq: number, name: string, ip: string, tcpPort: number, behindNat = false): number =>
  71 + decimalDigits(rq) + name.length + ip.length + decimalDigits(tcpPort) + natBytes(behindNat);

/** `{"type":"WORDS-FOUND","rq":N,"files":[]}` */
export const wordsBytes = (rq: number): number => 39 + decimalDigits(rq);

/** `{"type":"SEARCH-FILE","rq":N,"file":"…","peers":[]}` */
export const searchBytes = (rq: number, file: string): number => 47 + decimalDigits(rq) + jsonStringBytes(file);
