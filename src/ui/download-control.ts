// Downloads the page starts, pauses, resumes and cancels. Every download from the page keeps its
// .part file when it stops (keepPartial): pausing is stopping it, resuming is downloading the same
// file again (the transfer goes on from the verified chunks on disk, fromChunk), and cancelling
// stops it and deletes what arrived. One download per file name at a time.
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DownloadInfo, DownloadEvent, Peer } from '../peer/peer.js';
import { partPathsFor } from '../transfer/index.js';
import { fromIndexServer } from './answer-deadline.js';
import { UiError } from './errors.js';
import { plainWords } from './plain-words.js';
import type { Transfers } from './transfers.js';

interface Active {
  stop: AbortController;
  /** Settles when the download has stopped, however it ended. */
  ended: Promise<unknown>;
  from: string | undefined;
}

export class DownloadControl {
  private readonly active = new Map<string, Active>();
  /** The holder a paused download was pinned to, for its resume. */
  private readonly pinned = new Map<string, string | undefined>();

  constructor(
    private readonly peer: Peer,
    private readonly transfers: Transfers,
    private readonly downloadDir: string,
  ) {}

  /**
   * Starts downloading `file` (from `from` only, if given); resolves once the transfer has started,
   * or rejects with why it could not (nobody shares it, it is downloaded already, the server is silent).
   */
  async start(file: string, from?: string): Promise<DownloadInfo> {
    if (await exists(join(this.downloadDir, file))) {
      throw new UiError(409, 'DESTINATION_EXISTS', plainWords({ code: 'DESTINATION_EXISTS', message: '', file }), { field: 'file' });
    }
    if (this.active.has(file)) throw new UiError(409, 'CONFLICT', plainWords({ code: 'CONFLICT', message: '', file }), { field: 'file' });
    const stop = new AbortController();
    let listener: ((event: DownloadEvent) => void) | undefined;
    const started = new Promise<DownloadInfo>((resolve) => {
      listener = (event) => {
        if (event.kind === 'started' && event.download.file === file) resolve(event.download);
      };
      this.peer.on('download', listener);
    });
    const run = this.peer.download(file, { outDir: this.downloadDir, keepPartial: true, signal: stop.signal, ...(from ? { from } : {}) });
    const ended = run.catch(() => {});
    const entry: Active = { stop, ended, from };
    this.active.set(file, entry);
    void ended.finally(() => {
      if (this.active.get(file) === entry) this.active.delete(file);
    });
    try {
      return await fromIndexServer(this.peer, Promise.race([started, run.then(() => started)]));
    } catch (error) {
      // Not started (refused, or the server silent past the deadline): stop it and forget it, so that
      // a Retry starts afresh instead of being refused as "being downloaded already".
      stop.abort();
      if (this.active.get(file) === entry) this.active.delete(file);
      throw error;
    } finally {
      this.peer.off('download', listener!);
    }
  }

  /** Stops the running download of `file`, keeping what arrived for resume(). */
  async pause(file: string): Promise<void> {
    const entry = this.runningEntry(file, 'pause');
    this.transfers.stop(this.transfers.runningOf(file)!.id, 'paused');
    this.pinned.set(file, entry.from);
    entry.stop.abort();
    await entry.ended;
  }

  /** Downloads a paused file again, from where it stopped (from `from`, else the holder it was pinned to). */
  async resume(file: string, from?: string): Promise<DownloadInfo> {
    if (!this.transfers.pausedOf(file)) throw notPaused(file, 'resume');
    return this.start(file, from ?? this.pinned.get(file));
  }

  /** Stops the download of `file` (running or paused) and deletes what arrived. */
  async cancel(file: string): Promise<void> {
    const running = this.active.get(file);
    const view = this.transfers.runningOf(file);
    if (running && view) {
      this.transfers.stop(view.id, 'cancelled');
      running.stop.abort();
      await running.ended;
    } else if (this.transfers.pausedOf(file)) {
      this.transfers.cancelPaused(file);
    } else {
      throw notPaused(file, 'cancel');
    }
    this.pinned.delete(file);
    const { part, state } = partPathsFor(this.downloadDir, file);
    await Promise.all([part, state].map((path) => unlink(path).catch(() => {})));
  }

  private runningEntry(file: string, action: string): Active {
    const entry = this.active.get(file);
    if (!entry || !this.transfers.runningOf(file)) throw notPaused(file, action);
    return entry;
  }
}

const notPaused = (file: string, action: string) =>
  new UiError(409, 'NOT_PAUSED', `There is no download of ${JSON.stringify(file)} to ${action}: it has finished, failed or was never started.`, { field: 'file' });

const exists = (path: string) => stat(path).then(() => true, () => false);
