// Size budgets of the wire, taken from asyncapi.yaml (x-p2fs-transport) so the spec and code agree.
import { TRANSPORT_LIMITS } from '../generated/catalogue.js';

/** No reply datagram exceeds this by default: the QUIC/IPv6-minimum safe size, never fragmented. */
export const MAX_DATAGRAM_BYTES: number = TRANSPORT_LIMITS.udp.maxDatagramBytes;

/**
 * Longest TCP line a peer buffers. A FILE frame is at most ~3 KB even when every character is
 * escaped; 16 KiB leaves room without letting a peer that never sends a newline grow our memory.
 */
export const MAX_LINE_BYTES: number = TRANSPORT_LIMITS.tcp.maxLineBytes;

/** Chunk size of the transfer protocol, in characters (Unicode code points) of `text`. */
export const CHUNK_CHARS = 200;
