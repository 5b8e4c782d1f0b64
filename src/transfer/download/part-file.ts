// The download in progress on disk: `<file>.part` holds the verified chunks so far, and a small
// hidden state file beside it (`.<file>.part.json`) records how they were encoded and which process
// owns them. After a crash (even kill -9) the next download of the same file finds both, keeps the
// chunks that are certainly whole, and asks the next holder for the rest (fromChunk).
import { createHash, type Hash } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { show } from '../../protocol/index.js';
import type { ChunkEncoding } from '../codec/layout.js';
import { isContinuationByte, Utf8StreamCheck } from '../codec/utf8.js';
import { DownloadError } from '../errors.js';
import { BASE64_CHUNK_BYTES, CHUNK_CHARS, PART_FLUSH_INTERVAL_MS, PART_SYNC_AHEAD_BYTES, SCAN_BLOCK_BYTES } from '../limits.js';

export interface PartPaths {
  /** The data: verified chunks, in order. */
  part: string;
  /** The state: encoding, owner, expected identity. */
  state: string;
}

/** Longest file name most file systems take, in bytes. */
const NAME_MAX_BYTES = 255;
/** Room for the `.<pid>.tmp` suffix of the state file while it is being replaced. */
const TEMPORARY_SUFFIX_BYTES = 20;
const STATE_FORMAT = 'p2fs-part/1';

interface PartState {
  format: typeof STATE_FORMAT;
  file: string;
  encoding?: ChunkEncoding;
  /**
   * A download by pieces: the pieces root it verifies against, which pieces are verified and on
   * disk (a bitfield, base64), and their bytes. Pieces land at their offsets, in any order.
   */
  pieces?: { root: string; verified: string; bytes: number };
  /** The size and hash the data is expected to end up with, when known: a resume must agree. */
  expected?: { size?: number; sha256?: string };
  pid: number;
  host: string;
}

/** Where the download of `file` into `outDir` keeps its partial data. */
export function partPathsFor(outDir: string, file: string): PartPaths {
  if (Buffer.byteLength(`.${file}.part.json`) + TEMPORARY_SUFFIX_BYTES <= NAME_MAX_BYTES) {
    return { part: join(outDir, `${file}.part`), state: join(outDir, `.${file}.part.json`) };
  }
  // A name near the limit has no room for the suffix: use a digest of it instead.
  const id = createHash('sha256').update(file).digest('hex').slice(0, 32);
  return { part: join(outDir, `.p2fs-${id}.part`), state: join(outDir, `.p2fs-${id}.part.json`) };
}

/** .part files owned by downloads running in this process. */
const openHere = new Set<string>();

/** The pieces a download by pieces verifies against: its root and how many pieces there are. */
export interface PieceLayout {
  root: string;
  count: number;
}

export class PartFile {
  private hash: Hash;
  /** A download by pieces: which pieces are verified and written. */
  private bitfield: Uint8Array | undefined;
  /** Verified pieces waiting for the disk, and the loop writing them (when one runs). */
  private queue: QueuedPiece[] = [];
  private draining: Promise<void> | undefined;
  private writeError: Error | undefined;
  private writesQueued = 0;
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  /** Bytes written since the last flush to the device began, and that flush while it runs. */
  private unsyncedBytes = 0;
  private syncing: Promise<void> | undefined;

  private constructor(
    readonly paths: PartPaths,
    private readonly file: string,
    private readonly handle: FileHandle,
    private state: PartState,
    /** Bytes of verified data in the .part file. */
    public bytes: number,
    /** Chunks those bytes make up: the next holder is asked for the one after. */
    public chunks: number,
    hash: Hash,
  ) {
    this.hash = hash;
  }

  get encoding(): ChunkEncoding | undefined {
    return this.state.encoding;
  }

  get nextChunk(): number {
    return this.chunks + 1;
  }

  /**
   * Takes ownership of the partial download of `file` in outDir, resuming what a previous run left
   * if it is compatible with `expected`, else starting empty. Throws DownloadError PART_IN_USE when
   * a live process owns it.
   */
  static async open(outDir: string, file: string, expected: { size?: number; sha256?: string }, pieces?: PieceLayout): Promise<PartFile> {
    const paths = partPathsFor(outDir, file);
    if (openHere.has(paths.part)) {
      throw new DownloadError('PART_IN_USE', `${show(file)} is already being downloaded into ${outDir} by this process`, file);
    }
    const previous = await readState(paths.state);
    if (previous && previous.pid !== process.pid && previous.host === hostname() && isAlive(previous.pid)) {
      throw new DownloadError(
        'PART_IN_USE',
        `${show(file)} is already being downloaded into ${outDir} by process ${previous.pid} (delete ${paths.state} if that is wrong)`,
        file,
      );
    }
    openHere.add(paths.part);
    try {
      if (pieces) return await PartFile.openByPieces(paths, file, expected, pieces, previous);
      const resumable = previous !== undefined && previous.file === file && previous.encoding !== undefined && agrees(previous.expected, expected);
      const state: PartState = { format: STATE_FORMAT, file, expected, pid: process.pid, host: hostname(), ...(resumable ? { encoding: previous.encoding } : {}) };
      await writeState(paths.state, state);
      const handle = await openForWriting(paths.part);
      try {
        const size = (await handle.stat()).size;
        const kept = resumable && size > 0 ? await scanForResume(handle, size, state.encoding!) : { bytes: 0, chunks: 0, hash: createHash('sha256') };
        await handle.truncate(kept.bytes);
        if (kept.bytes === 0) delete state.encoding;
        return new PartFile(paths, file, handle, state, kept.bytes, kept.chunks, kept.hash);
      } catch (error) {
        await handle.close();
        throw error;
      }
    } catch (error) {
      openHere.delete(paths.part);
      if (error instanceof DownloadError) throw error;
      throw new DownloadError('IO', `cannot prepare ${paths.part}: ${(error as Error).message}`, file, [], { cause: error });
    }
  }

  /**
   * A download by pieces: the previous run's verified pieces are kept when it verified against the
   * same root (they were checked before they were written, and recorded only once written).
   */
  private static async openByPieces(paths: PartPaths, file: string, expected: { size?: number; sha256?: string }, pieces: PieceLayout, previous: PartState | undefined): Promise<PartFile> {
    const bitfield = new Uint8Array(Math.ceil(pieces.count / 8));
    let bytes = 0;
    if (previous?.file === file && previous.pieces?.root === pieces.root && agrees(previous.expected, expected)) {
      const saved = Buffer.from(previous.pieces.verified, 'base64');
      if (saved.length === bitfield.length) {
        bitfield.set(saved);
        bytes = previous.pieces.bytes;
      }
    }
    const state: PartState = { format: STATE_FORMAT, file, expected, pid: process.pid, host: hostname(), pieces: { root: pieces.root, verified: Buffer.from(bitfield).toString('base64'), bytes } };
    await writeState(paths.state, state);
    const handle = await openForWriting(paths.part);
    if (bytes === 0) await handle.truncate(0);
    const part = new PartFile(paths, file, handle, state, bytes, 0, createHash('sha256'));
    part.bitfield = bitfield;
    return part;
  }

  /** Whether piece `piece` is verified and on disk (a download by pieces). */
  hasPiece(piece: number): boolean {
    const bits = this.bitfield!;
    return (bits[piece >> 3]! & (1 << (piece & 7))) !== 0;
  }

  /** Bytes queued for writing and not yet written: the caller waits (back-pressure) past a budget. */
  get queuedBytes(): number {
    return this.writesQueued;
  }

  /**
   * Queues a verified piece for writing at its offset. One loop writes what is queued, pieces that
   * follow each other on disk in one writev; a piece counts as kept (in the state file) only once
   * its bytes are written.
   */
  writePiece(piece: number, offset: number, data: Buffer): Promise<void> {
    if (this.writeError) return Promise.reject(this.writeError);
    this.writesQueued += data.length;
    const written = new Promise<void>((resolve, reject) => this.queue.push({ piece, offset, data, resolve, reject }));
    this.draining ??= this.drain();
    return written;
  }

  /**
   * Writes until the queue is empty. It clears `draining` in the same step as it finds the queue
   * empty: a piece queued by code that resumes when the last write resolves (a microtask later)
   * then starts a new loop instead of waiting on one that has ended.
   */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        try {
          for (const run of contiguousRuns(batch)) await writeAll(this.handle, run.map((queued) => queued.data), run[0]!.offset);
        } catch (error) {
          this.writeError = error instanceof Error ? error : new Error(String(error));
          for (const queued of [...batch, ...this.queue.splice(0)]) queued.reject(this.writeError);
          return;
        }
        for (const queued of batch) {
          this.writesQueued -= queued.data.length;
          this.bitfield![queued.piece >> 3]! |= 1 << (queued.piece & 7);
          this.bytes += queued.data.length;
          queued.resolve();
        }
        this.wrote(batch.reduce((sum, queued) => sum + queued.data.length, 0));
        this.saveSoon();
      }
    } finally {
      this.draining = undefined;
    }
  }

  /**
   * Counts written bytes and, past PART_SYNC_AHEAD_BYTES, starts flushing them to the device while
   * the download goes on. Only commit depends on it (it flushes the rest), so a failure here shows
   * up there: the final datasync reports the same error.
   */
  private wrote(bytes: number): void {
    this.unsyncedBytes += bytes;
    if (this.unsyncedBytes < PART_SYNC_AHEAD_BYTES || this.syncing) return;
    this.unsyncedBytes = 0;
    this.syncing = this.handle.datasync().catch(() => {}).finally(() => {
      this.syncing = undefined;
    });
  }

  /** Resolves when nothing is queued for the disk any more; rejects if a write failed. */
  private async writes(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.writeError) throw this.writeError;
  }

  /** SHA-256 of everything written, read back from disk (when nobody said what it should be). */
  async hashWritten(): Promise<string> {
    await this.writes();
    const hash = createHash('sha256');
    await forEachBlock(this.handle, (await this.handle.stat()).size, (block) => {
      hash.update(block);
      return true;
    });
    return hash.digest('hex');
  }

  /** Every queued piece written and recorded. */
  async settled(): Promise<void> {
    await this.writes();
    if (this.bitfield) await this.saveNow();
  }

  /** The state (with the bitfield) at most every PART_FLUSH_INTERVAL_MS: a crash loses that much at most. */
  private saveSoon(): void {
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      this.saveNow().catch(() => {});
    }, PART_FLUSH_INTERVAL_MS);
  }

  private saveNow(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.state = { ...this.state, pieces: { root: this.state.pieces!.root, verified: Buffer.from(this.bitfield!).toString('base64'), bytes: this.bytes } };
    const state = this.state;
    this.saving = this.saving.then(() => writeState(this.paths.state, state));
    return this.saving;
  }

  /** Records the holder's encoding before the first data is written (a resume needs it). */
  async adoptEncoding(encoding: ChunkEncoding): Promise<void> {
    if (this.state.encoding === encoding) return;
    this.state = { ...this.state, encoding };
    await writeState(this.paths.state, this.state);
  }

  /** Appends verified data that completes `chunks` chunks in all. */
  async append(data: Uint8Array, chunks: number): Promise<void> {
    this.hash.update(data);
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.handle.write(data, written, data.length - written, this.bytes + written);
      written += bytesWritten;
    }
    this.bytes += data.length;
    this.chunks = chunks;
    this.wrote(data.length);
  }

  /** SHA-256 of the data so far. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }

  /** Throws the data away and starts from chunk 1 (it failed verification or cannot be resumed). */
  async restart(): Promise<void> {
    await this.handle.truncate(0);
    this.hash = createHash('sha256');
    this.bytes = 0;
    this.chunks = 0;
    const { encoding: _dropped, ...rest } = this.state;
    this.state = rest;
    await writeState(this.paths.state, this.state);
  }

  /**
   * Moves the verified file to `destination`: flushed to disk first, then linked or renamed in one
   * step, so the destination never holds a partial file. Without `overwrite` an existing file there
   * is never replaced.
   */
  async commit(destination: string, overwrite: boolean): Promise<void> {
    await this.writes();
    clearTimeout(this.saveTimer);
    await this.saving;
    await this.syncing;
    await this.handle.datasync();
    await this.handle.close();
    try {
      await place(this.paths.part, destination, overwrite, this.file);
      await rm(this.paths.state, { force: true });
    } finally {
      openHere.delete(this.paths.part);
    }
  }

  /** Removes the partial data and its state. */
  async discard(): Promise<void> {
    await this.writes().catch(() => {});
    clearTimeout(this.saveTimer);
    await this.saving.catch(() => {});
    await this.syncing;
    await this.handle.close().catch(() => {});
    await rm(this.paths.part, { force: true });
    await rm(this.paths.state, { force: true });
    openHere.delete(this.paths.part);
  }

  /** Leaves the partial data for a later resume. */
  async release(): Promise<void> {
    await this.writes().catch(() => {});
    if (this.bitfield) await this.saveNow().catch(() => {});
    await this.syncing;
    await this.handle.close().catch(() => {});
    openHere.delete(this.paths.part);
  }
}

interface QueuedPiece {
  piece: number;
  offset: number;
  data: Buffer;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** The queued pieces in runs that follow each other on disk (each run is one writev). */
function contiguousRuns(batch: readonly QueuedPiece[]): QueuedPiece[][] {
  const sorted = [...batch].sort((a, b) => a.offset - b.offset);
  const runs: QueuedPiece[][] = [];
  for (const queued of sorted) {
    const run = runs.at(-1);
    const last = run?.at(-1);
    if (run && last && last.offset + last.data.length === queued.offset) run.push(queued);
    else runs.push([queued]);
  }
  return runs;
}

/** Writes the buffers one after another from `position`, however many calls the kernel needs. */
async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  const rest = buffers.filter((buffer) => buffer.length > 0);
  for (let at = position; rest.length > 0; ) {
    const { bytesWritten } = await handle.writev(rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0]!.length) skip -= rest.shift()!.length;
    if (skip > 0) rest[0] = rest[0]!.subarray(skip);
  }
}

async function place(part: string, destination: string, overwrite: boolean, file: string): Promise<void> {
  const exists = () => new DownloadError('DESTINATION_EXISTS', `${destination} already exists; not replaced (the verified download is kept in ${part})`, file);
  if (overwrite) {
    await rename(part, destination);
    return;
  }
  try {
    // link() fails if the destination exists: an atomic "create, never replace".
    await link(part, destination);
    await rm(part);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw exists();
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw error;
    // A file system without hard links: check, then rename (a race here is the caller's own).
    if (await stat(destination).then(() => true, () => false)) throw exists();
    await rename(part, destination);
  }
}

/**
 * Reads a .part file left by an earlier run: keeps every chunk but the last one it holds (the last
 * may be cut short, or may have been the file's final chunk, which comes in FILE-END), and hashes
 * what it keeps. Data that is not what its encoding promises is not kept at all.
 */
async function scanForResume(handle: FileHandle, size: number, encoding: ChunkEncoding): Promise<{ bytes: number; chunks: number; hash: Hash }> {
  const nothing = { bytes: 0, chunks: 0, hash: createHash('sha256') };
  let keepBytes: number;
  let chunks: number;
  if (encoding === 'base64') {
    chunks = Math.max(0, Math.ceil(size / BASE64_CHUNK_BYTES) - 1);
    keepBytes = chunks * BASE64_CHUNK_BYTES;
  } else {
    const counted = await countCharacters(handle, size);
    if (counted === undefined) return nothing;
    chunks = Math.max(0, Math.ceil(counted / CHUNK_CHARS) - 1);
    keepBytes = await offsetOfCharacter(handle, size, chunks * CHUNK_CHARS);
  }
  const hash = createHash('sha256');
  await forEachBlock(handle, keepBytes, (block) => {
    hash.update(block);
    return true;
  });
  return { bytes: keepBytes, chunks, hash };
}

/** Code points in the first `size` bytes, or undefined when they are not valid UTF-8 (a cut last one is fine). */
async function countCharacters(handle: FileHandle, size: number): Promise<number | undefined> {
  const check = new Utf8StreamCheck();
  let count = 0;
  const valid = await forEachBlock(handle, size, (block) => {
    for (let i = 0; i < block.length; i++) if (!isContinuationByte(block[i]!)) count++;
    return check.push(block);
  });
  return valid ? count : undefined;
}

/** Byte offset where code point number `index` (from 0) starts. */
async function offsetOfCharacter(handle: FileHandle, size: number, index: number): Promise<number> {
  if (index === 0) return 0;
  let seen = 0;
  let offset = 0;
  let found = -1;
  await forEachBlock(handle, size, (block) => {
    for (let i = 0; i < block.length; i++) {
      if (!isContinuationByte(block[i]!) && seen++ === index) {
        found = offset + i;
        return false;
      }
    }
    offset += block.length;
    return true;
  });
  return found === -1 ? size : found;
}

/** Calls `visit` with successive blocks of the first `size` bytes until it returns false. */
async function forEachBlock(handle: FileHandle, size: number, visit: (block: Buffer) => boolean): Promise<boolean> {
  const buffer = Buffer.allocUnsafe(SCAN_BLOCK_BYTES);
  for (let position = 0; position < size; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(SCAN_BLOCK_BYTES, size - position), position);
    if (bytesRead === 0) break;
    if (!visit(buffer.subarray(0, bytesRead))) return false;
    position += bytesRead;
  }
  return true;
}

async function openForWriting(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return open(path, 'w+');
  }
}

async function readState(path: string): Promise<PartState | undefined> {
  try {
    const state = JSON.parse(await readFile(path, 'utf8')) as Partial<PartState>;
    return state.format === STATE_FORMAT && typeof state.file === 'string' && typeof state.pid === 'number' ? (state as PartState) : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a temporary name and renamed, so a crash never leaves half a state file. */
async function writeState(path: string, state: PartState): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state)}\n`);
  await rename(temporary, path);
}

/** Whether a previous run expected the same file as this one (unknowns agree with anything). */
function agrees(before: PartState['expected'], now: { size?: number; sha256?: string }): boolean {
  if (before?.size !== undefined && now.size !== undefined && before.size !== now.size) return false;
  if (before?.sha256 !== undefined && now.sha256 !== undefined && before.sha256 !== now.sha256) return false;
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
