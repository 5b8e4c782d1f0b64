// Timings and caps of reaching peers behind a NAT, each with why it is what it is. Imports nothing:
// the command line's --help reads NAT_KEEPALIVE_MS without loading the peer.

/**
 * How often a peer behind a NAT sends WHO-AM-I: UDP mappings commonly expire after 30 s of silence
 * (Linux conntrack's unreplied timeout; many home routers), and the server can only push a callback
 * through an open mapping.
 */
export const NAT_KEEPALIVE_MS = 20_000;

/**
 * How long a downloader waits for the holder to connect back after CALLBACK-SENT before asking
 * again: the push crosses one UDP hop and the connect one TCP handshake, well under a second on
 * any path a download would be worth running on; two seconds leave room for a lost push's retry.
 */
export const CALLBACK_WAIT_MS = 2_000;

/** CALLBACKs per holder per download attempt: the push travels UDP, so one loss must not end it. */
export const CALLBACK_TRIES = 3;

/**
 * How long the two sides of a hole punch keep trying to meet: the push crosses one UDP hop, and a
 * SYN dropped before the other side's mapping existed is resent by TCP after its first 1 s timeout.
 * Past this the NATs are not letting the two meet, and the downloader turns to a relay.
 */
export const PUNCH_WAIT_MS = 3_000;

/** Pause between connect attempts of a punch after a refusal (a reset from a NAT or the other host). */
export const PUNCH_RETRY_MS = 100;

/** A holder's connect-back that does not connect within this is given up (the downloader asks again). */
export const CONNECT_BACK_TIMEOUT_MS = 5_000;

/**
 * Connect-backs a holder has under way at once. Each is a connect the server asked for on someone
 * else's behalf; the server's per-requester budget is the first cap, this the holder's own.
 */
export const MAX_CONNECT_BACKS = 16;

/** Nonces a holder remembers, so a CONNECT-BACK pushed twice (a retried CALLBACK) connects once. */
export const REMEMBERED_NONCES = 1024;

/** The greeting of a connection back must arrive this soon after it connects, or it is dropped. */
export const GREETING_TIMEOUT_MS = 5_000;

/** Bytes of a nonce: 128 random bits, as the schema asks. */
export const NONCE_BYTES = 16;

/** Transfers a relay carries at once unless told otherwise (serve --relay-max). */
export const DEFAULT_RELAY_TRANSFERS = 4;

/**
 * Bytes a second a relay carries in all, both directions, unless told otherwise (serve --relay-rate):
 * 1 MiB/s, a modest share of a home uplink, since relaying spends the relay's own bandwidth.
 */
export const DEFAULT_RELAY_BYTES_PER_SECOND = 1024 * 1024;
