// Size budgets of the wire, taken from asyncapi.yaml (x-p2fs-transport) so the spec and code agree.
// Imports nothing that validates: the command line's --help reads these.
import { RQ_BOUNDS, TRANSPORT_LIMITS } from '../generated/limits.js';

/** No reply datagram exceeds this by default: the QUIC/IPv6-minimum safe size, never fragmented. */
export const MAX_DATAGRAM_BYTES: number = TRANSPORT_LIMITS.udp.maxDatagramBytes;

/**
 * Longest TCP line a peer buffers. A FILE frame is at most ~3 KB even when every character is
 * escaped; 16 KiB leaves room without letting a peer that never sends a newline grow our memory.
 */
export const MAX_LINE_BYTES: number = TRANSPORT_LIMITS.tcp.maxLineBytes;

/** Chunk size of the transfer protocol, in characters (Unicode code points) of `text`. */
export const CHUNK_CHARS = 200;

/** Largest `rq` any message may carry (the spec's bound: a signed 32-bit integer's range, from 0). */
export const MAX_RQ: number = RQ_BOUNDS.maximum;

/**
 * Smallest datagram limit a server may be started with: a refusal quoting a 64-character name and a
 * reason naming field and rule, and a page holding one peer with one file of a short name, must fit.
 */
export const MIN_DATAGRAM_BYTES = 512;

/**
 * Largest UDP payload over IPv4 (65,535 − 20 bytes of IP header − 8 of UDP header): the ceiling of
 * any datagram limit, and what a client decodes up to whatever limit its server was started with.
 */
export const MAX_UDP_PAYLOAD = 65_507;
