// Resolves a requested name to an open file the peer may serve. The catalog (the peer's published
// files) decides what is shared; this module still refuses anything that is not a plain file
// directly inside the share folder, whatever the catalog says: names with separators or dots,
// paths outside the folder, symlinks leading out of it, directories, devices and FIFOs.
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { show } from '../../protocol/index.js';
import { UploadError } from '../errors.js';
import type { FileFacts } from '../pieces/scan-file.js';

/** A file the peer has published: what the catalog knows about it. */
export interface SharedFile {
  /** The name other peers ask for (NFC). */
  name: string;
  /** Absolute path on disk, directly inside the share folder. */
  path: string;
  size: number;
  sha256: string;
  /**
   * Whether the file is valid UTF-8 (it then travels as text), when the catalog knows it — e.g.
   * from scanFile(), which finds it in the same pass as the hash. Saves the server a pass over
   * the whole file before the first frame; trusted only while the file still has `size` bytes.
   */
  utf8?: boolean;
  /**
   * The publishing scan (scanFile): size, hash, encoding, chunk count and piece tree. Saves the
   * first ranged request a pass over the file; trusted only while the file still has `size` bytes.
   */
  facts?: FileFacts;
}

/** The peer's published files, by name. Only names it returns are ever served. */
export interface ShareCatalog {
  lookup(name: string): SharedFile | undefined;
}

export interface OpenedFile {
  handle: FileHandle;
  entry: SharedFile;
  realPath: string;
  size: number;
  /** Changes whenever the file's content may have: keys the encoding cache. */
  version: string;
}

// O_NOFOLLOW: the resolved path must not have become a symlink since it was checked.
// O_NONBLOCK: opening a FIFO put in the folder returns at once instead of hanging the server.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** Opens the file published as `name`, or throws UploadError saying why it cannot be served. */
export async function openSharedFile(catalog: ShareCatalog, shareDir: string, name: string): Promise<OpenedFile> {
  const notShared = (code: 'NOT_SHARED' | 'OUTSIDE_SHARE' | 'NOT_A_FILE', detail: string) =>
    new UploadError(code, `file ${show(name)} is not shared by this peer`, { cause: detail });
  if (!isPlainFileName(name)) throw notShared('NOT_SHARED', 'not a plain file name');
  const entry = catalog.lookup(name);
  if (!entry) throw notShared('NOT_SHARED', 'not in the catalog');
  if (!isAbsolute(entry.path)) throw notShared('OUTSIDE_SHARE', `catalog path ${entry.path} is not absolute`);

  let realPath: string;
  let realShare: string;
  try {
    [realPath, realShare] = await Promise.all([realpath(entry.path), realpath(shareDir)]);
  } catch (error) {
    throw notShared('NOT_SHARED', `cannot resolve ${entry.path}: ${(error as Error).message}`);
  }
  if (dirname(realPath) !== realShare) {
    throw notShared('OUTSIDE_SHARE', `${entry.path} resolves to ${realPath}, outside ${realShare}`);
  }

  let handle: FileHandle;
  try {
    handle = await open(realPath, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOENT') throw notShared('OUTSIDE_SHARE', `${realPath} changed while being opened (${code})`);
    throw new UploadError('UNREADABLE', `file ${show(name)} cannot be read by this peer`, { cause: error });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw notShared('NOT_A_FILE', `${realPath} is not a regular file`);
    return { handle, entry, realPath, size: stat.size, version: `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}` };
  } catch (error) {
    await handle.close();
    throw error instanceof UploadError ? error : new UploadError('UNREADABLE', `file ${show(name)} cannot be read by this peer`, { cause: error });
  }
}

/** A name that can only mean a file directly inside a folder: no separators, NUL, `.` or `..`. */
export function isPlainFileName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}
