// The peer's three commands as the command line knows them before running one: what each does, its
// flags (with their variables and defaults) and its help. No peer code is loaded here, so --help and
// --version answer at once; scripts/peer.ts pairs each spec with the module that runs it.
import { DEFAULT_ATTEMPTS, DEFAULT_FIRST_TIMEOUT_MS, DEFAULT_MAX_TIMEOUT_MS } from '../client/retry.js';
import { LOG_LEVELS } from '../log/index.js';
import { DEFAULT_DOWNLOAD_FOLDER, DOWNLOAD_FOLDER_ENV, PEER_DATA_FOLDER, STATE_FOLDER_ENV } from '../peer/places.js';
import { DEFAULT_RELAY_BYTES_PER_SECOND, DEFAULT_RELAY_TRANSFERS, NAT_KEEPALIVE_MS } from '../reach/limits.js';
import { DEFAULT_PORT } from '../server/defaults.js';
import { DEFAULT_MAX_HOLDERS, MAX_HOLDERS_AT_ONCE } from '../transfer/limits.js';
import { integerFrom, oneOf, parseBindPort, parseCount, parseDuration, parseIp, parseListenAddress, parsePositive, parseServers } from './flags.js';
import type { CommandSpec } from './program.js';

/** The environment variable that stands in for --server. */
export const SERVER_ENV = 'P2FS_SERVER';
/** The index server when neither --server nor $P2FS_SERVER says: one on this machine. */
export const DEFAULT_SERVER = `127.0.0.1:${DEFAULT_PORT}`;

export const COMMON_FLAGS = {
  server: {
    value: 'HOST:PORT[,…]', env: SERVER_ENV, default: DEFAULT_SERVER, parse: parseServers,
    help: `the index server (port ${DEFAULT_PORT} if left out); several, comma-separated, for servers of one registry: the next takes over when one stops answering`,
  },
  name: { value: 'NAME', help: "this peer's name: 1 to 32 letters, digits, '.', '_' or '-'" },
  verbose: { short: '-v', help: 'report every message sent and received' },
  json: { help: 'machine-readable output: JSON instead of text' },
  retries: { value: 'N', help: `resend an unanswered request up to N times (default ${DEFAULT_ATTEMPTS - 1})`, parse: parseCount },
  timeout: { value: 'MS', help: `first wait for the server's answer, doubling up to ${DEFAULT_MAX_TIMEOUT_MS / 1000} s (default ${DEFAULT_FIRST_TIMEOUT_MS}ms)`, parse: parseDuration },
  'log-level': { value: 'LEVEL', help: LOG_LEVELS.join(', '), default: 'warn', parse: oneOf(LOG_LEVELS) },
};

export const NETWORK_FLAGS = {
  host: { value: 'IP', help: 'the IP other peers reach this one at (default: the local address that reaches the server)', parse: parseIp },
  'tcp-port': { value: 'P', help: 'serve files on this TCP port (default any free one)', parse: parseBindPort },
  'udp-port': { value: 'P', help: 'talk to the server from this UDP port (default any free one)', parse: parseBindPort },
};

const OUT_FLAG = { value: 'DIR', env: DOWNLOAD_FOLDER_ENV, default: DEFAULT_DOWNLOAD_FOLDER };

export const UI_FLAGS = {
  ui: { value: 'PORT', help: 'also serve a web page for this peer on PORT (--ui alone: any free port, printed)', parse: parseBindPort },
  'ui-host': { value: 'IP', help: 'address the web page listens on (default 127.0.0.1: this machine only)', parse: parseIp },
  out: { ...OUT_FLAG, help: 'where downloads from the web page go' },
};

export const METRICS_FLAG = {
  metrics: { value: 'IP:PORT', help: 'serve Prometheus metrics at http://IP:PORT/metrics and a health check at /healthz', parse: parseListenAddress },
};

/**
 * `--ui` takes an optional port: a bare `--ui` (last, or followed by another flag) becomes
 * `--ui=0`, a free port, before the command line is parsed.
 */
export function expandBareUiFlag(argv: readonly string[]): string[] {
  return argv.map((arg, i) => (arg === '--ui' && (i === argv.length - 1 || argv[i + 1]!.startsWith('-')) ? '--ui=0' : arg));
}

const SHARE_RULES = `What is shared: every regular file directly in DIR. Not subfolders, not hidden files (names
starting with '.'), not downloads in progress (*.part), not symbolic links leading out of DIR.
Files whose names the protocol refuses (control characters, over 255 characters) are skipped
with a warning. The peer keeps its database (file hashes, name, token) in DIR/${PEER_DATA_FOLDER}/.`;

const NAME_KEPT = `A name this machine registered before is taken back: the token is kept per name in the state
folder ($${STATE_FOLDER_ENV}, else ~/.local/state/p2fs).`;

export const SERVE = {
  summary: 'share a folder: register, publish it, keep the index in step, serve downloads until Ctrl-C',
  usage: 'serve --share DIR --name NAME [--server HOST:PORT] [--tcp-port P] [--udp-port P] [--host IP] [--ui [PORT]] [--relay]',
  notes: `${SHARE_RULES}
Files added, changed or deleted while serving are published, republished or removed.
With --ui the page is listening before the peer registers. On Ctrl-C, SIGTERM or SIGHUP (the
terminal closed) the peer de-registers and exits 0; a second signal exits at once.
${NAME_KEPT}`,
  flags: {
    share: { value: 'DIR', help: 'the folder to share (required)' },
    ...COMMON_FLAGS,
    ...NETWORK_FLAGS,
    'max-uploads': { value: 'N', help: 'uploads served at once; more get "busy, try later" (default 8)', parse: parsePositive },
    'nat-keepalive': {
      value: 'TIME', parse: parseDuration,
      help: `behind a NAT, how often to send WHO-AM-I so the mapping stays open (default ${NAT_KEEPALIVE_MS / 1000}s; shorter for NATs that forget sooner)`,
    },
    relay: { help: 'relay for peers that cannot reach each other (both behind NATs); needs a public address' },
    'relay-max': { value: 'N', help: `transfers relayed at once (default ${DEFAULT_RELAY_TRANSFERS})`, parse: parsePositive },
    'relay-rate': { value: 'BYTES', help: `bytes a second relayed in all (default ${DEFAULT_RELAY_BYTES_PER_SECOND})`, parse: parsePositive },
    db: { value: 'URL', help: `the peer's database (default sqlite://DIR/${PEER_DATA_FOLDER}/peer.sqlite)` },
    ...UI_FLAGS,
    ...METRICS_FLAG,
  },
} satisfies CommandSpec;

/** `--max-holders N`: how many holders one download fetches from at once. */
export const MAX_HOLDERS_FLAG = {
  value: 'N', help: `holders to download from at once (default ${DEFAULT_MAX_HOLDERS})`, parse: integerFrom(1, MAX_HOLDERS_AT_ONCE),
};

export const GET = {
  summary: 'download one file from a peer that shares it, verified, then leave',
  usage: 'get FILE [--out DIR] [--from PEER] [--max-holders N] [--name NAME] [--server HOST:PORT]',
  notes: `Registers (as NAME, default get-<random>), asks the index who shares FILE, downloads it and
moves it into DIR and de-registers. A file published with a pieces root comes from every holder at
once (up to --max-holders), each piece proven against that root before it is written; a holder
that sends a corrupt piece is dropped and named, and its pieces come from the others. Otherwise
the file comes from one holder at a time, verified by size and SHA-256, resuming at the next
holder when one fails. Nothing reaches DIR/FILE unverified: what arrived of a download
that failed or was stopped (Ctrl-C, SIGTERM, SIGHUP: exit 130, 143, 129) is kept in
DIR/FILE.part, and the same get resumes from there.
Exit 0 when saved, 1 if not, 2 when the command line is wrong.
${NAME_KEPT}`,
  flags: {
    out: { ...OUT_FLAG, help: 'folder to save into' },
    from: { value: 'PEER', help: 'only from this peer' },
    'max-holders': MAX_HOLDERS_FLAG,
    overwrite: { help: 'replace an existing file of that name in DIR' },
    ...COMMON_FLAGS,
    ...NETWORK_FLAGS,
  },
} satisfies CommandSpec;

export const FIND = {
  summary: 'list the shared files whose names hold every word, best match first, then leave',
  usage: 'find WORD... [--name NAME] [--server HOST:PORT] [--json]',
  notes: `Registers (as NAME, default find-<random>), asks the index for the files whose names hold
every WORD as a whole word, ignoring case and accents (SEARCH-WORDS), prints them with how
many peers share each, their size and hash, then de-registers. At most 8 words; at most
1,000 files. Exit 0 when the index answered (even with no file), 1 if not.
${NAME_KEPT}`,
  flags: {
    ...COMMON_FLAGS,
    ...NETWORK_FLAGS,
  },
} satisfies CommandSpec;

export const SHELL = {
  summary: 'an interactive prompt offering every operation by name (the default command)',
  usage: 'shell --name NAME [--server HOST:PORT] [--share DIR] [--out DIR]',
  notes: `Registers as NAME on start (when the server answers), then reads commands: register,
deregister, publish, remove, list (retrieve-all), info (retrieve-infot), search, find, download,
update-contact, status, files, help, quit. Tab completes commands, flags, files and peer names;
history is kept in DIR/${PEER_DATA_FOLDER}/shell-history with --share. Ctrl-C clears the line or
stops the running command; a second Ctrl-C, Ctrl-D or quit leaves (de-registering).
With --share DIR the shell serves files from DIR and publishes those you name (publish alone,
or register --share: all of them).
Input may be piped: each line runs in turn; the exit code is 1 if any command failed.
${NAME_KEPT}`,
  flags: {
    share: { value: 'DIR', help: 'a folder to serve and publish files from' },
    out: { ...OUT_FLAG, help: 'where download saves files' },
    db: { value: 'URL', help: `the peer's database (default sqlite://DIR/${PEER_DATA_FOLDER}/peer.sqlite with --share, else memory://)` },
    ...COMMON_FLAGS,
    ...NETWORK_FLAGS,
  },
} satisfies CommandSpec;
