// One look at the share folder: the regular files directly in it (and symlinks to other files
// directly in it), with the name the index will know them by. Hashing is not done here; see folder.ts.
import type { Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { dirname, join } from 'node:path';
import { fileNameProblem, indexName, isQuietlySkipped } from './names.js';

export interface DiskFile {
  /** NFC name: the name in the index. */
  name: string;
  /** The name on disk (may be NFD, e.g. written by macOS). */
  diskName: string;
  /** Absolute path of the bytes to serve (a symlink's target, resolved). */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface Skipped {
  diskName: string;
  reason: string;
}

export interface Scan {
  files: Map<string, DiskFile>;
  /** Entries that look like files a user meant to share but cannot be: say why. */
  skipped: Skipped[];
}

/** `root` must be the folder's real path (symlinks resolved), so "inside" can be checked by prefix. */
export async function scanFolder(root: string): Promise<Scan> {
  const files = new Map<string, DiskFile>();
  const skipped: Skipped[] = [];
  const entries = await readdir(root, { encoding: 'buffer' });
  // Sorted, so that when two disk names normalise to one index name the same one wins every time.
  entries.sort(Buffer.compare);
  for (const raw of entries) {
    if (!isUtf8(raw)) {
      skipped.push({ diskName: raw.toString('utf8'), reason: 'its name is not valid UTF-8' });
      continue;
    }
    const diskName = raw.toString('utf8');
    if (isQuietlySkipped(diskName)) continue;
    const found = await inspect(root, diskName);
    if ('reason' in found) {
      if (found.reason) skipped.push({ diskName, reason: found.reason });
      continue;
    }
    const twin = files.get(found.name);
    if (twin) {
      skipped.push({ diskName, reason: `its name is the same as "${twin.diskName}" after Unicode normalisation` });
      continue;
    }
    files.set(found.name, found);
  }
  return { files, skipped };
}

/** A file of the folder as it is now, or why it is not shared ('' when not worth a warning). */
export async function inspect(root: string, diskName: string): Promise<DiskFile | { reason: string }> {
  const path = join(root, diskName);
  let info: Stats;
  try {
    info = await lstat(path);
  } catch {
    return { reason: '' }; // gone since readdir: the next look will tell
  }
  let target = path;
  if (info.isSymbolicLink()) {
    try {
      target = await realpath(path);
      info = await stat(target);
    } catch {
      return { reason: 'it is a broken symbolic link' };
    }
    // The file server serves only files directly in the folder: a link may point at a sibling, nothing else.
    if (dirname(target) !== root) return { reason: 'it is a symbolic link leading outside the share folder' };
  }
  if (info.isDirectory()) return { reason: '' }; // subfolders are not shared, as --help says
  if (!info.isFile()) return { reason: 'it is not a regular file' };
  const name = indexName(diskName);
  const problem = fileNameProblem(name);
  if (problem) return { reason: problem };
  return { name, diskName, path: target, size: info.size, mtimeMs: info.mtimeMs };
}
