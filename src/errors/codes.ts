// Every error code P2FS uses, by error class, with what it means: the one place they are documented
// (`npm run gen` writes docs/errors.md from this table, and `npm run check` fails when it is stale).
// A code is stable once released: programs, scripts and the web page branch on it. Where two classes
// share a code, it means the same thing in both.

export const ERROR_CODES = {
  ProtocolError: {
    summary: 'The protocol edge (src/protocol): bytes that are not a valid message.',
    codes: {
      TOO_LARGE: 'a datagram or line over the size limit (no reply)',
      NOT_UTF8: 'bytes that are not UTF-8 (no reply)',
      NOT_JSON: 'text that is not JSON (no reply)',
      NOT_OBJECT: 'valid JSON, but not a JSON object (no reply)',
      UNKNOWN_TYPE: 'a JSON object whose type is missing or not one this side accepts (answered with ERROR)',
      BAD_RQ: 'a known request type whose rq cannot be read (answered with ERROR, rq null)',
      INVALID: "a known type that breaks its schema (answered with the type's refusal, naming the field and the rule)",
    },
  },
  RegistryError: {
    summary: "The index server's registry (src/registry): refusals, sent as the request's refusal reply with the reason.",
    codes: {
      NOT_REGISTERED: 'the name, or the asking client, has no registration: "register first"',
      NAME_TAKEN: 'REGISTER for a name another client holds',
      NOT_AUTHORISED: "a mutation without the name's token and not from its registered address",
      BAD_ADDRESS: 'an address no peer can be reached at (0.0.0.0, ::)',
      BAD_FILE: 'a file entry the registry cannot serve back (too large for a reply, not valid Unicode)',
      TOO_MANY_FILES: 'the per-peer cap on shared files',
      STORE_UNAVAILABLE: 'the durable store failed: nothing was changed, the client may retry',
      STORE_UNCONFIRMED: 'the store did not confirm the write (a timeout, a connection lost during the commit): it may still be applied; the same request again tells (never kept as the reply to a retransmission)',
      STORE_BUSY: 'the name kept changing through other servers of a shared registry while the request was decided: try again',
    },
  },
  ServerError: {
    summary: 'Starting the index server (src/server).',
    codes: {
      BAD_OPTION: 'an option or flag out of its range: the message names it and the rule (exit 2)',
      BIND_FAILED: 'the UDP socket could not bind (port in use, address not local, no permission)',
      STORE_FAILED: 'the registry store could not be opened or loaded',
    },
  },
  Refusal: {
    summary: "Refusals the index server makes itself, as replies rather than errors (src/server/handlers.ts): with the RegistryError codes and ProtocolError's INVALID, the `reason` label of p2fs_server_refusals_total.",
    codes: {
      BAD_CURSOR: 'a `cursor` that is not a `next` value of the same kind of list',
      PEER_UNKNOWN: 'RETRIEVE-INFOT about a peer that is not registered',
      NOT_SHARED: 'SEARCH-FILE for a file nobody shares (SEARCH-ERROR, the course\'s rule)',
      NO_WORDS: 'SEARCH-WORDS whose `words` holds no letter or digit',
      TOO_MANY_WORDS: 'SEARCH-WORDS with more words than the server searches by at once (8)',
      WORDS_TOO_COMMON: 'SEARCH-WORDS whose every word is in more than 100,000 file names: a rarer word is needed',
      CALLBACK_RATE: 'CALLBACK from an IP over its budget (a burst of 20, then 5 a second): the server must not become a reflector',
      PUNCH_UNLIKELY: 'CALLBACK with `punch` when the holder\'s or the requester\'s NAT is seen to rewrite source ports: the downloader goes to a relay at once instead of waiting for a punch that cannot meet',
      INTERNAL: 'the server failed to handle the request (a bug, logged); the client may try again',
    },
  },
  StoreError: {
    summary: 'The durable stores (src/stores): the message names the store (URL redacted) and what failed.',
    codes: {
      STORE_URL_INVALID: 'the URL cannot be parsed or names a scheme no store serves',
      STORE_UNAVAILABLE: 'the store could not be reached or opened in time: refused, dropped, locked, timed out; a write it rejects this way was not applied',
      STORE_UNCONFIRMED: 'a commit was sent but not confirmed (its deadline passed while under way, or the connection was lost during it): it may have been applied',
      STORE_IN_USE: 'a single-writer store (sqlite, redis, mysql, memory) is held by another index server: the message says by whom when the store can tell, and that postgresql:// is the store for several servers',
      STORE_FAILED: 'the store answered with an error, or was used after close()',
    },
  },
  IndexClientError: {
    summary: "The peer's client of the index server (src/client).",
    codes: {
      TIMEOUT: 'the server did not answer after every try',
      DENIED: 'the server refused the request; `reason` is its sentence',
      INVALID: "the request breaks the protocol's rules before it is even sent",
      TOO_LARGE: 'one item cannot fit in a datagram on its own (e.g. a very long file name)',
      PROTOCOL: 'the server answered with ERROR: it could not read what was sent',
      NOT_REGISTERED: 'a mutation asked for before register() gave the client a name',
      BIND: 'the UDP port could not be bound (in use, not permitted) or the server name did not resolve',
      CLOSED: 'the client was closed while the request was waiting',
    },
  },
  DownloadError: {
    summary: 'A download (src/transfer): `attempts` lists every holder tried and what went wrong.',
    codes: {
      INVALID_OPTIONS: 'the call itself is wrong (bad file name, no outDir, bad timeout)',
      DESTINATION_EXISTS: '<outDir>/<file> exists and overwrite is not set',
      PART_IN_USE: 'another live process is downloading to the same .part file',
      NO_HOLDERS: 'nobody to download from, or every holder publishes a different size or hash',
      ALL_HOLDERS_FAILED: 'every holder was tried; `attempts` says what went wrong with each',
      ABORTED: "the caller's AbortSignal fired",
      IO: 'the .part file or destination could not be read, written or renamed',
    },
  },
  HolderFailure: {
    summary: 'One holder during a download (listed in DownloadError.attempts).',
    codes: {
      CONNECT_FAILED: 'the TCP connection was refused or reset before the first frame',
      CONNECT_TIMEOUT: 'no TCP connection within the connect timeout',
      REFUSED: "the holder answered DOWNLOAD-ERROR (its reason is quoted)",
      STALLED: 'no frame within the stall timeout',
      CLOSED_EARLY: 'the connection ended before FILE-END',
      BAD_FRAME: 'a frame broke the schema or the protocol (wrong rq, file, chunk number…)',
      VERIFY_FAILED: "the data does not match FILE-END's size or SHA-256: discarded",
      NOT_AS_PUBLISHED: "FILE-END's size or hash differs from what the holder (or the index) published",
      CORRUPT_PIECE: 'a piece did not verify against the pieces root the index lists: the holder is dropped for this download and the piece fetched from another',
    },
  },
  FrameRejected: {
    summary: 'The transfer codec (src/transfer/codec): a line that is not a usable data frame.',
    codes: {
      BAD_FRAME: 'the line breaks the schema or the protocol; the message names the field and the rule',
      REFUSED: "the line is a DOWNLOAD-ERROR: the holder refused, it did not break the protocol",
    },
  },
  UploadError: {
    summary: "The file service's refusals (src/transfer), sent as DOWNLOAD-ERROR and reported to onUpload.",
    codes: {
      NOT_SHARED: 'the catalog does not list the name, or the name is not a plain file name',
      OUTSIDE_SHARE: "the catalog's path does not resolve to a file directly inside the share folder",
      NOT_A_FILE: 'the path is a directory, device, FIFO…',
      UNREADABLE: 'the file could not be opened or read',
      CHANGED: 'the file changed while being sent (no longer UTF-8, or shorter than sent)',
      FROM_CHUNK_PAST_END: "fromChunk is beyond the file's last chunk",
      RANGE_OUTSIDE_FILE: "a ranged DOWNLOAD (count) that ends past the file's last chunk",
      RANGE_NOT_PIECE_ALIGNED: 'a ranged DOWNLOAD that does not start on a piece boundary (chunk 256 k + 1) or does not end on one or at the last chunk',
      BUSY: 'the most uploads allowed at once are already running',
      BAD_REQUEST: 'the line is not a valid DOWNLOAD (not JSON, unknown type, schema broken, too long)',
      REQUEST_TIMEOUT: 'no complete DOWNLOAD line within the request timeout of connecting',
      TOO_MANY_CONNECTIONS: 'the most connections allowed are already open',
    },
  },
  PeerError: {
    summary: "The peer (src/peer): its share folder, its downloads and its own rules.",
    codes: {
      NOT_IN_SHARE: 'a file named for publishing is not a shareable file of the share folder',
      NO_SHARE: 'an operation needs a share folder and the peer was started without one',
      NO_HOLDER: "nobody (or not the peer asked for) shares the file; the index server's SEARCH-ERROR reason when it refused the search",
      NOT_REGISTERED: 'the operation needs a registration first',
      BAD_SHARE: 'the share folder cannot be used (missing, not a folder, unreadable)',
      BAD_ADDRESS: 'no local address reaches the index server (no route): --host is needed',
      NO_NAME: "no --name given and the peer's database remembers none",
      STOPPED: 'the peer was stopped',
    },
  },
  UsageError: {
    summary: 'The command line (src/cli): exit code 2.',
    codes: {
      USAGE: 'unknown flag or command, missing or malformed value; the message names the flag and the rule',
    },
  },
  UiError: {
    summary: "The web page's JSON API (src/ui), sent as `{error: {code, message, …}}`. Errors of the peer, its client and its downloads keep their own codes (above) with an HTTP status.",
    codes: {
      BAD_REQUEST: 'the body or a parameter breaks a rule; the message names the field and the rule',
      UNSUPPORTED_MEDIA_TYPE: 'the body is not of the type the endpoint takes',
      TOO_LARGE: "the body is over the endpoint's size limit",
      FORBIDDEN: 'wrong Host, another origin, or no session token',
      NOT_FOUND: 'no such endpoint, file or peer',
      METHOD_NOT_ALLOWED: 'the endpoint does not take this method',
      CONFLICT: 'the file exists already, or a download of it is running',
      DESTINATION_EXISTS: 'the download folder has a file of that name already',
      BUSY: 'too many pages are listening to the event stream',
      SERVER_SILENT: 'the index server has not answered for 2 s (the page says so and offers Retry; the request goes on in the background)',
      NOT_PAUSED: 'resume or cancel of a download that is not running or paused on this page',
      INTERNAL: "a bug: the peer's log has the details, the reply does not",
    },
  },
} as const satisfies Record<string, { summary: string; codes: Record<string, string> }>;
