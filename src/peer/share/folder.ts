// The share folder, kept in step with the index. A sync looks at the folder, hashes only what is new
// or changed (size and mtime against the peer's database), and reports what to PUBLISH and REMOVE.
// fs.watch triggers syncs as files change; a periodic rescan catches what watching misses.
import { watch, type FSWatcher } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { FileEntry } from '../../generated/types.js';
import { silentLogger, type Logger } from '../../log/index.js';
import type { DurableMap } from '../../stores/durable-map.js';
import { PeerError } from '../errors.js';
import { scanFile, type FileFacts } from '../../transfer/pieces/scan-file.js';
import { indexName } from './names.js';
import { inspect, scanFolder, type DiskFile } from './scan.js';

/** Coalesces the burst of events one save makes (write a temp file, rename, chmod) into one sync. */
export const WATCH_DEBOUNCE_MS = 250;

/**
 * A file modified more recently than this may still be being written: it is looked at again after
 * this long instead of being hashed now (and published with a hash that is already stale).
 */
export const SETTLE_MS = 500;

/** An explicit sync waits up to this many settle periods for files still being written (2 s). */
const PATIENT_ROUNDS = 4;

/** Safety net for changes fs.watch misses (network filesystems, overflowing inotify queues). */
export const RESCAN_MS = 30_000;

/** What the peer's database remembers of a file, so a restart does not hash it again. */
export interface FileRecord {
  diskName: string;
  size: number;
  mtimeMs: number;
  sha256: string;
  /** Absent in records written before pieces existed: such a file is scanned again. */
  piecesRoot?: string;
  chunks?: number;
  utf8?: boolean;
}

/**
 * `auto` shares every file of the folder unless withdrawn (serve); `manual` shares only what was
 * published by name (the shell).
 */
export type ShareMode = 'auto' | 'manual';
export type ShareChoice = 'shared' | 'withdrawn';

/** A file the peer serves: what the file server needs (ShareCatalog's SharedFile). */
export interface SharedFile {
  name: string;
  path: string;
  size: number;
  sha256: string;
  piecesRoot: string;
  chunks: number;
  utf8: boolean;
  /** The scan, when this process made it: spares the file server its own pass for ranged requests. */
  facts?: FileFacts;
}

export interface ShareChange {
  publish: FileEntry[];
  remove: string[];
}

export interface ShareFolderOptions {
  dir: string;
  files: DurableMap<FileRecord>;
  choices: DurableMap<ShareChoice>;
  mode: ShareMode;
  /**
   * Told every change to the shared set, in order, one at a time; the peer sends PUBLISH and REMOVE
   * from here. A rejection leaves the change pending: the next sync announces it again.
   */
  onChange?: (change: ShareChange) => Promise<void> | void;
  /** Called before each file is hashed (tests count re-hashing through it). */
  onHash?: (file: DiskFile) => void;
  logger?: Logger;
  settleMs?: number;
  debounceMs?: number;
  rescanMs?: number;
}

interface KnownFile extends DiskFile {
  sha256: string;
  piecesRoot: string;
  chunks: number;
  utf8: boolean;
  facts?: FileFacts;
}

export class ShareFolder {
  /** Files hashed since open (the rest came from the database). */
  hashCount = 0;
  private known = new Map<string, KnownFile>();
  /** What onChange was last told is shared: name → entry. */
  private announced = new Map<string, FileEntry>();
  private warned = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private rescan: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly logger: Logger;
  private readonly settleMs: number;

  private constructor(
    /** The folder's real path. */
    readonly dir: string,
    readonly mode: ShareMode,
    private readonly options: ShareFolderOptions,
    private records: Map<string, FileRecord>,
    private choices: Map<string, ShareChoice>,
  ) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'share' });
    this.settleMs = options.settleMs ?? SETTLE_MS;
  }

  /** Opens the folder and its memory; call sync() for the first look. */
  static async open(options: ShareFolderOptions): Promise<ShareFolder> {
    let dir: string;
    try {
      dir = await realpath(options.dir);
      if (!(await stat(dir)).isDirectory()) throw new Error('not a folder');
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : 'it is not a folder';
      throw new PeerError('BAD_SHARE', `cannot share ${options.dir}: ${why}`);
    }
    const records = new Map(await options.files.entries());
    const choices = new Map(await options.choices.entries());
    return new ShareFolder(dir, options.mode, options, records, choices);
  }

  /** ShareCatalog: the shared file published under `name` (NFC), if any. */
  lookup(name: string): SharedFile | undefined {
    const file = this.known.get(indexName(name));
    return file && this.isShared(file.name) ? toShared(file) : undefined;
  }

  /** Every shared file, in name order. */
  shared(): SharedFile[] {
    return [...this.known.values()].filter((f) => this.isShared(f.name)).map(toShared).sort(byName);
  }

  /** Every shareable file of the folder, shared or not (for completion and the GUI). */
  available(): SharedFile[] {
    return [...this.known.values()].map(toShared).sort(byName);
  }

  /** The PUBLISH entries of everything shared. */
  entries(): FileEntry[] {
    return this.shared().map(({ name, size, sha256, piecesRoot, chunks }) => ({ name, size, sha256, piecesRoot, chunks }));
  }

  /** Looks at the folder now; resolves with what changed in the shared set, once announced. */
  sync(): Promise<ShareChange> {
    return this.serially(() => this.syncNow(true));
  }

  /**
   * Takes what the index lists for this peer as announced, and announces the difference: after a
   * (re-)registration the index then holds exactly the shared set, whatever happened while we were
   * away (files changed while the peer was down, or the index forgot us: pass []).
   */
  reconcile(listed: readonly FileEntry[]): Promise<ShareChange> {
    return this.serially(() => {
      this.announced = new Map(listed.map((entry) => [indexName(entry.name), entry]));
      return this.announce();
    });
  }

  /** Shares files of the folder by name (the shell's publish); throws NOT_IN_SHARE for others. */
  share(names: readonly string[]): Promise<ShareChange> {
    return this.serially(async () => {
      await this.syncNow(true);
      const wanted = names.map(indexName);
      const missing = wanted.filter((name) => !this.known.has(name));
      if (missing.length > 0) {
        const list = missing.map((n) => JSON.stringify(n)).join(', ');
        throw new PeerError('NOT_IN_SHARE', `${list} ${missing.length === 1 ? 'is not a file' : 'are not files'} of the share folder ${this.dir} (or still being written)`);
      }
      for (const name of wanted) await this.choose(name, this.mode === 'manual' ? 'shared' : undefined);
      return this.announce();
    });
  }

  /** Stops sharing files by name (the shell's remove); names not shared are removed from the index anyway. */
  unshare(names: readonly string[]): Promise<ShareChange> {
    return this.serially(async () => {
      const wanted = names.map(indexName);
      for (const name of wanted) await this.choose(name, this.mode === 'auto' ? 'withdrawn' : undefined);
      return this.announce(wanted);
    });
  }

  /** From now on, changes in the folder are synced (and announced) as they happen. */
  watch(): void {
    if (this.closed || this.watcher) return;
    try {
      this.watcher = watch(this.dir, { persistent: false }, () => this.soon(this.options.debounceMs ?? WATCH_DEBOUNCE_MS));
      this.watcher.on('error', (error) => {
        this.logger.warn('share.watch.failed', { error, fallback: 'periodic rescan' });
        this.watcher?.close();
      });
    } catch (error) {
      this.logger.warn('share.watch.failed', { error, fallback: 'periodic rescan' });
    }
    const every = this.options.rescanMs ?? RESCAN_MS;
    this.rescan = setInterval(() => this.soon(0), every).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    clearTimeout(this.debounce);
    clearTimeout(this.recheck);
    clearInterval(this.rescan);
    await this.queue.catch(() => {});
  }

  private soon(delayMs: number): void {
    if (this.closed || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.serially(() => this.syncNow(false)).catch((error) => this.logger.warn('share.sync.failed', { error }));
    }, delayMs).unref();
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new PeerError('STOPPED', 'the share folder was closed');
      return work();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * One look at the folder, then the announcement. A patient sync (an explicit call) waits a few
   * settle periods for files still being written; a background one leaves them for a later look.
   */
  private async syncNow(patient: boolean): Promise<ShareChange> {
    let unsettled = await this.look();
    for (let round = 0; patient && unsettled && round < PATIENT_ROUNDS; round++) {
      await new Promise((resolve) => setTimeout(resolve, this.settleMs));
      unsettled = await this.look();
    }
    if (unsettled) this.recheckLater();
    return this.announce();
  }

  /** Updates what is known of the folder; true when some file was still being written. */
  private async look(): Promise<boolean> {
    const scan = await scanFolder(this.dir);
    for (const { diskName, reason } of scan.skipped) this.warnOnce(diskName, reason);
    const next = new Map<string, KnownFile>();
    let unsettled = false;
    for (const file of scan.files.values()) {
      const known = await this.hashed(file);
      if (known === 'unsettled') {
        unsettled = true;
        const previous = this.known.get(file.name);
        if (previous) next.set(file.name, previous); // keep serving the last good version meanwhile
      } else if (known) {
        next.set(file.name, known);
      }
    }
    for (const name of this.records.keys()) {
      if (!scan.files.has(name)) {
        this.records.delete(name);
        await this.options.files.delete(name);
      }
    }
    this.known = next;
    return unsettled;
  }


  /** The file with its hash: from the database when size and mtime match, else hashed now. */
  private async hashed(file: DiskFile): Promise<KnownFile | 'unsettled' | undefined> {
    const record = this.records.get(file.name);
    if (
      record && record.diskName === file.diskName && record.size === file.size && record.mtimeMs === file.mtimeMs &&
      record.piecesRoot !== undefined && record.chunks !== undefined && record.utf8 !== undefined
    ) {
      return { ...file, sha256: record.sha256, piecesRoot: record.piecesRoot, chunks: record.chunks, utf8: record.utf8 };
    }
    if (Math.abs(Date.now() - file.mtimeMs) < this.settleMs) return 'unsettled';
    this.options.onHash?.(file);
    this.hashCount++;
    let facts: FileFacts;
    try {
      facts = await scanFile(file.path);
    } catch (error) {
      this.warnOnce(file.diskName, `it cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      return undefined;
    }
    const after = await inspect(this.dir, file.diskName);
    if ('reason' in after || after.size !== file.size || after.mtimeMs !== file.mtimeMs) return 'unsettled';
    const { sha256, piecesRoot, chunks, utf8 } = facts;
    const fresh: FileRecord = { diskName: file.diskName, size: file.size, mtimeMs: file.mtimeMs, sha256, piecesRoot, chunks, utf8 };
    this.records.set(file.name, fresh);
    await this.options.files.set(file.name, fresh);
    return { ...file, sha256, piecesRoot, chunks, utf8, facts };
  }

  private recheckLater(): void {
    if (this.recheck || this.closed) return;
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      this.soon(0);
    }, this.settleMs).unref();
  }

  private isShared(name: string): boolean {
    const choice = this.choices.get(name);
    return this.mode === 'auto' ? choice !== 'withdrawn' : choice === 'shared';
  }

  private async choose(name: string, choice: ShareChoice | undefined): Promise<void> {
    if (choice === undefined) {
      this.choices.delete(name);
      await this.options.choices.delete(name);
    } else {
      this.choices.set(name, choice);
      await this.options.choices.set(name, choice);
    }
  }

  /**
   * Diffs the shared set against what was last announced and announces the difference. The new state
   * counts as announced only once onChange succeeded, so a failed announcement is retried by the next sync.
   */
  private async announce(alsoRemove: readonly string[] = []): Promise<ShareChange> {
    const now = new Map(this.entries().map((entry) => [entry.name, entry]));
    const publish = [...now.values()].filter((entry) => {
      const before = this.announced.get(entry.name);
      return !before || before.size !== entry.size || before.sha256 !== entry.sha256 || before.piecesRoot !== entry.piecesRoot;
    });
    const remove = [...this.announced.keys()].filter((name) => !now.has(name));
    for (const name of alsoRemove) if (!now.has(name) && !remove.includes(name)) remove.push(name);
    const change = { publish, remove };
    if (publish.length > 0 || remove.length > 0) {
      this.logger.info('share.changed', { published: publish.map((f) => f.name), removed: remove });
      await this.options.onChange?.(change);
    }
    this.announced = now;
    return change;
  }

  private warnOnce(diskName: string, reason: string): void {
    const key = `${diskName}\0${reason}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn('share.skipped', { file: diskName, reason });
  }
}

const toShared = ({ name, path, size, sha256, piecesRoot, chunks, utf8, facts }: KnownFile): SharedFile =>
  ({ name, path, size, sha256, piecesRoot, chunks, utf8, ...(facts ? { facts } : {}) });
const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
