// Where a peer keeps things on disk. Light on purpose (no imports beyond node:): the command line's
// --help names these places without loading the peer.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The peer's own files (its database, shell history) live here, inside the share folder but never shared. */
export const PEER_DATA_FOLDER = '.p2fs';

/** Suffix of a download in progress (written beside its destination, renamed when verified). */
export const PARTIAL_SUFFIX = '.part';

/**
 * Where downloads go unless told otherwise: the same folder for `get`, the shell and the web page.
 * A subfolder of where the peer runs, so a peer serving its working folder never shares what it
 * downloads (subfolders are not shared).
 */
export const DEFAULT_DOWNLOAD_FOLDER = './downloads';
export const DOWNLOAD_FOLDER_ENV = 'P2FS_DOWNLOADS';

/** Overrides the state folder (tests point it at a temporary folder). */
export const STATE_FOLDER_ENV = 'P2FS_STATE_DIR';

/**
 * The peer's state folder, for what outlives one run whatever the share folder: the registration
 * tokens kept per name. $P2FS_STATE_DIR, else $XDG_STATE_HOME/p2fs, else ~/.local/state/p2fs;
 * undefined when there is no home folder to put it in.
 */
export function stateFolder(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env[STATE_FOLDER_ENV]) return resolve(env[STATE_FOLDER_ENV]);
  if (env.XDG_STATE_HOME) return join(resolve(env.XDG_STATE_HOME), 'p2fs');
  const home = homedir();
  return home ? join(home, '.local', 'state', 'p2fs') : undefined;
}
