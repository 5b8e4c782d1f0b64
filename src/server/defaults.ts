// The index server's defaults, in a module that imports nothing: the command line's --help shows
// them without loading the server.

/** The port the index server listens on unless told otherwise, and the one peers ask by default. */
export const DEFAULT_PORT = 4000;
export const DEFAULT_HOST = '0.0.0.0';
/** A registration not heard from for this long expires (a serving peer refreshes well inside it). */
export const DEFAULT_EXPIRE_AFTER_MS = 5 * 60_000;
