// Size budgets and timeouts of the transfer protocol, each with the reason for its value. Options of
// startFileServer and downloadFile default to these; tests pass shorter ones.
import { CHUNK_CHARS } from '../protocol/index.js';

export { CHUNK_CHARS };

/** Bytes of file data in one base64 FILE frame: 200 base64 characters decode to exactly 150 bytes. */
export const BASE64_CHUNK_BYTES = (CHUNK_CHARS / 4) * 3;

/** Largest UTF-8 encoding of one chunk: 200 code points of at most 4 bytes each. */
export const MAX_TEXT_CHUNK_BYTES = CHUNK_CHARS * 4;

/**
 * Disk reads of the file server and the resume scan. Large enough that a read costs little per
 * byte, small enough that many concurrent uploads stay far below the 150 MB RSS budget.
 */
export const READ_BLOCK_BYTES = 256 * 1024;

/**
 * Whole-file scans (the UTF-8 pre-pass, inspectFile, the resume scan of a .part file) read in
 * larger blocks: fewer system calls, and only one such buffer per scan.
 */
export const SCAN_BLOCK_BYTES = 1024 * 1024;

/**
 * Frames are batched into socket writes of about this size: one write per frame costs a syscall
 * and a callback each (77 MiB/s measured), large writes approach the raw pipe.
 */
export const SEND_BATCH_BYTES = 256 * 1024;

/**
 * An upload queues up to this much on its socket before it waits for the socket to drain, so the
 * encoder keeps working while the kernel sends. Bounds each upload's memory.
 */
export const SEND_QUEUE_BYTES = 1024 * 1024;

/**
 * Send buffers a file server keeps for reuse between batches (see SendBuffers): enough for a few
 * uploads' queues in flight, and at most ~4.5 MB held while idle.
 */
export const IDLE_SEND_BUFFERS = 16;

/**
 * The downloader writes verified data to the .part file in blocks of this size, or sooner when the
 * sender pauses (see PART_FLUSH_INTERVAL_MS), so a crash loses at most this much work.
 */
export const PART_FLUSH_BYTES = 1024 * 1024;

/** A holder that sends slowly still gets its data on disk (and resumable) this soon. */
export const PART_FLUSH_INTERVAL_MS = 200;

/**
 * The downloader asks the kernel to flush the .part file to the device (fdatasync, on a worker
 * thread) each time this much more is written, while the download goes on. The final flush before
 * the rename then has at most this much left: left to the end, 100 MB took ~76 ms of the
 * download's wall time here.
 */
export const PART_SYNC_AHEAD_BYTES = 8 * 1024 * 1024;

/**
 * Concurrent uploads a peer serves by default. Each costs one read buffer, one send batch and a
 * share of the uplink; past a handful, every downloader just gets a smaller share.
 */
export const DEFAULT_MAX_UPLOADS = 8;

/**
 * Open connections a file server accepts by default, idle ones included. Each costs a descriptor
 * and at most one line buffer (16 KiB): 2,000 stays far below the 20,000-descriptor limit and the
 * memory budget, and well above the 1,000 idle connections the abuse tests open.
 */
export const DEFAULT_MAX_CONNECTIONS = 2000;

/**
 * A client must deliver its whole DOWNLOAD line within this time of connecting. A deadline rather
 * than an idle timer, so a client trickling one byte a second (slow-loris) is cut off too.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * An upload whose socket accepts no data for this long (the downloader stopped reading) is dropped
 * so that it frees its upload slot.
 */
export const DEFAULT_UPLOAD_IDLE_TIMEOUT_MS = 60_000;

/**
 * After a DOWNLOAD-ERROR the server keeps reading (and discarding) for up to this long, so that the
 * error line reaches a client that is still sending instead of being lost to a TCP reset.
 */
export const ERROR_LINGER_MS = 1_000;

/** Upload progress is reported at most this often per upload: enough for a progress bar. */
export const UPLOAD_PROGRESS_INTERVAL_MS = 250;

/**
 * Whether a file is UTF-8 is remembered for this many file versions, so only the first download
 * of a version pays the pre-pass over the whole file.
 */
export const ENCODING_CACHE_ENTRIES = 1024;

/**
 * Piece trees (for ranged requests) are remembered for this many file versions: a tree costs 40
 * bytes per piece (about 1 MB for a 1 GB file), and only the first ranged request of a version
 * pays the pass over the file.
 */
export const PIECE_FACTS_CACHE_ENTRIES = 64;

/** Refusals of garbage, timed-out and surplus connections are logged as one count per interval. */
export const ABUSE_LOG_INTERVAL_MS = 10_000;

/** How long the downloader waits for a TCP connection to a holder. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * A holder that sends no frame for this long is abandoned for the next one. Generous, because a
 * sender's first frame of a large text file waits for its UTF-8 pre-pass over the whole file.
 */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

/**
 * A swarm download asks each holder for windows of consecutive pieces: the first of this many, each
 * next one twice as long up to MAX_WINDOW_PIECES. Small first windows spread the start over every
 * holder and find out soon which are slow; long later ones make the per-request round trip vanish.
 */
export const FIRST_WINDOW_PIECES = 2;

/** 64 pieces are 2.4 MB of binary (up to 12.5 MB of text): a window keeps a fast holder busy. */
export const MAX_WINDOW_PIECES = 64;

/**
 * Windows asked of one holder at a time: the one arriving and the next, so the holder starts on the
 * next window as soon as it finished the last, without waiting a round trip for the request.
 */
export const WINDOWS_IN_FLIGHT = 2;

/** Holders a swarm download uses at once by default (`--max-holders`). */
export const DEFAULT_MAX_HOLDERS = 8;

/** The most `--max-holders` allows: each holder costs a connection and up to a window of pieces in memory. */
export const MAX_HOLDERS_AT_ONCE = 64;

/** A swarm download asks the index who holds the file again this often, to use holders that joined. */
export const HOLDER_REQUERY_MS = 5_000;

/** A holder that failed (not corruption) is tried again at most this many times in one download. */
export const MAX_HOLDER_FAILURES = 3;

/** A holder with nothing to fetch (the rest is in flight elsewhere) looks again at least this often. */
export const CHANGE_WAIT_MS = 250;

/**
 * What one read of a holder's socket lands in: one buffer per connection, used for every read. The
 * stream's own read size; 256 KB read no faster and cost 8 holders 1.5 MB more.
 */
export const SOCKET_READ_BYTES = 64 * 1024;

/**
 * Decoded pieces of one holder waiting for the swarm to take them: past this, its socket is not
 * read. A read completes at most two pieces of a binary file, so reading rarely stops for long.
 */
export const MAX_PIECES_UNTAKEN = 4;

/**
 * Verified pieces waiting to be written: past this many bytes a holder's connection stops being
 * read until the disk catches up, which bounds the downloader's memory whatever the file size.
 * 1 MB downloads as fast as 2 MB did, and a 1 GB download from 8 holders peaks ~10 MB lower.
 */
export const MAX_QUEUED_WRITE_BYTES = 1024 * 1024;
